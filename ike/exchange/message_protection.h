// SK-protected messages (RFC 7296 §3.14): everything after IKE_SA_INIT travels inside an
// Encrypted payload. This joins the codec's framing (encrypted_message.h) with one direction's
// MessageProtector, so the driver deals in headers and payloads only.
#pragma once

#include <vector>

#include "common/bytes.h"
#include "common/expected.h"
#include "crypto/random.h"
#include "ike/codec/ike_header.h"
#include "ike/codec/payloads.h"
#include "ike/exchange/output.h"
#include "ike/suite/message_protector.h"

namespace natgate::ike {

// The whole datagram: IKE header, SK payload header, IV, ciphertext, ICV.
Expected<Bytes> seal_message(const IkeHeader& header, const std::vector<Payload>& payloads,
                             MessageProtector& protector, crypto::RandomSource& random);

struct OpenedMessage {
  IkeHeader header;
  std::vector<Payload> payloads;  // the inner chain, in clear
};

// Decodes, verifies and decrypts a datagram ending in SK. Payloads in front of SK are not
// covered by the encryption and are ignored (RFC 7296 §3.14 puts SK last and alone in practice).
// Errors: Malformed (with the codec's DecodeError), NotProtected (no SK), Unsupported (SKF,
// which goes through FragmentReassembler), IntegrityCheckFailed.
Expected<OpenedMessage, InputError> open_message(ByteView datagram, MessageProtector& protector);

}  // namespace natgate::ike
