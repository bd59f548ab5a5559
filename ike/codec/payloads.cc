#include "ike/codec/payloads.h"

#include <type_traits>

namespace natgate::ike {

Transform Transform::make(iana::EncrId id, std::optional<std::uint16_t> key_bits) {
  Transform t{iana::TransformType::Encr, static_cast<std::uint16_t>(id), {}};
  if (key_bits) t.attributes.push_back({iana::kAttrKeyLength, *key_bits});
  return t;
}

std::optional<std::uint16_t> Transform::key_length() const {
  for (const auto& a : attributes)
    if (a.type == iana::kAttrKeyLength)
      if (const auto* v = std::get_if<std::uint16_t>(&a.value)) return *v;
  return std::nullopt;
}

PayloadType payload_type(const Payload& p) {
  return std::visit(
      [](const auto& v) -> PayloadType {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, UnknownPayload>) {
          return static_cast<PayloadType>(v.type);
        } else {
          return T::kType;
        }
      },
      p);
}

}  // namespace natgate::ike
