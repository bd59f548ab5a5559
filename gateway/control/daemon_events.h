// What happened to SAs, as the daemon tells operators: `natgate events --follow` prints these as
// JSON lines and the metrics endpoint (gateway/metrics/) counts them. The core publishes on the
// io_context thread; listeners run there, synchronously, and must be quick (they queue, they do
// not write to sockets).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace natgate::gateway {

struct DaemonEvent {
  enum class Kind : std::uint8_t {
    IkeUp,       // an IKE SA and its first CHILD SA are up (IKE_AUTH done, RFC 7296 §1.2)
    IkeDown,     // an IKE SA that was up is gone (deleted, timed out, expired)
    IkeRekey,    // an IKE SA was replaced by a new one (RFC 7296 §2.18); spi_*: the new SA's
    ChildUp,     // a CHILD SA pair is in the data plane
    ChildDown,   // a CHILD SA pair left the data plane (not one replaced by a rekey)
    ChildRekey,  // a new CHILD SA pair replaces an older one (RFC 7296 §2.8); old_spi_in: its SPI
  };
  Kind kind = Kind::IkeUp;
  std::int64_t time_ms = 0;  // Unix time in milliseconds
  std::string connection;
  std::string peer;       // the peer's IKE endpoint "ip:port" ("" when unknown)
  std::string remote_id;  // "fqdn:alice.lab" once authenticated, else ""
  std::uint64_t ike_spi_i = 0;
  std::uint64_t ike_spi_r = 0;
  std::string child;  // CHILD SA events: its name
  std::uint32_t spi_in = 0;
  std::uint32_t spi_out = 0;
  std::uint32_t old_spi_in = 0;         // ChildRekey
  std::optional<double> setup_seconds;  // IkeUp: from the first IKE_SA_INIT message to IKE_AUTH done
};

const char* to_string(DaemonEvent::Kind kind);  // "ike_up", "ike_down", "ike_rekey", "child_up", …
// One JSON object without newline, keys sorted; SPIs as lowercase hex like `natgate status`.
std::string event_to_json(const DaemonEvent& event);

class DaemonEvents {
 public:
  using Listener = std::function<void(const DaemonEvent&)>;
  // A token for unsubscribe. A listener may unsubscribe itself (or others) while being called.
  std::uint64_t subscribe(Listener listener);
  void unsubscribe(std::uint64_t token);
  void publish(const DaemonEvent& event);
  bool has_listeners() const { return !listeners_.empty(); }
  std::size_t listener_count() const { return listeners_.size(); }

 private:
  std::map<std::uint64_t, Listener> listeners_;
  std::uint64_t next_token_ = 1;
};

}  // namespace natgate::gateway
