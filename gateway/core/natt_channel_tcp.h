// RFC 9329 TCP encapsulation wired between the IKE core and the userspace data plane
// (gateway/io/tcp_transport.h owns the sockets):
//   - TcpNattChannel: IKE whose IKE SA uses a stream goes over it (whatever port the IKE core
//     meant), the rest to the data plane's UDP NAT-T channel; no NAT-keepalives on a stream (§6.7);
//   - TcpSaBackend: a dataplane::SaBackend in front of the engine's that installs a CHILD SA whose
//     peer uses a stream with the stream's shim as its outer remote endpoint (ESP in UDP to the
//     shim, which frames it, §3.2), and names SAs and events back as the IKE core knows them.
// The IKE core and the engine stay unaware of TCP: to both, the peer is a NAT-T endpoint.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "dataplane/sa_backend.h"
#include "gateway/core/natt_channel.h"
#include "gateway/io/tcp_transport.h"

namespace natgate::gateway::core {

class TcpNattChannel final : public NattChannel {
 public:
  // `transport` must outlive the channel.
  TcpNattChannel(std::unique_ptr<NattChannel> udp, TcpTransport& transport)
      : udp_(std::move(udp)), transport_(transport) {}
  Status send_ike(const EndpointPair& ends, ByteView ike_message) override;
  Status send_keepalive(const EndpointPair& ends) override;
  std::optional<Status> send_over_stream(const EndpointPair& ends, ByteView ike_message, bool natt) override;

 private:
  std::unique_ptr<NattChannel> udp_;
  TcpTransport& transport_;
};

class TcpSaBackend final : public dataplane::SaBackend, private dataplane::EventListener {
 public:
  // Registers with `transport` (which must outlive the backend) to follow a peer that tcp: auto
  // moves to TCP in the middle of an IKE SA.
  TcpSaBackend(std::unique_ptr<dataplane::SaBackend> inner, TcpTransport& transport);
  ~TcpSaBackend() override;
  TcpSaBackend(const TcpSaBackend&) = delete;
  TcpSaBackend& operator=(const TcpSaBackend&) = delete;

  std::string name() const override { return inner_->name(); }
  Expected<std::uint32_t> allocate_spi(const AddressPair& ends, std::uint32_t reqid) override {
    return inner_->allocate_spi(ends, reqid);
  }
  Status add_sa(const dataplane::SaSpec& sa) override;
  Status update_sa_endpoints(std::uint32_t spi, const IpAddress& old_dst, const EndpointPair& ends,
                             bool udp_encap) override;
  Expected<dataplane::SaCounters> query_sa(std::uint32_t spi, const IpAddress& dst) override {
    return inner_->query_sa(spi, inner_dst(spi, dst));
  }
  Status delete_sa(std::uint32_t spi, const IpAddress& dst) override;
  Status add_policy(const dataplane::PolicySpec& p) override { return inner_->add_policy(p); }
  Status replace_policy(const dataplane::PolicySpec& p) override { return inner_->replace_policy(p); }
  Status delete_policy(const dataplane::PolicySpec& p) override { return inner_->delete_policy(p); }
  void set_listener(dataplane::EventListener* listener) override;
  int event_fd() const override { return inner_->event_fd(); }
  void poll_events() override { inner_->poll_events(); }
  void flush() override {
    names_.clear();
    outer_names_.clear();
    inner_->flush();
  }

  dataplane::SaBackend& inner() { return *inner_; }

 private:
  // The ends the engine gets for `ends` (the shim for a peer on a stream), or nullopt.
  std::optional<EndpointPair> over_stream(const EndpointPair& ends) const;
  IpAddress inner_dst(std::uint32_t spi, const IpAddress& dst) const;
  IpAddress outer_dst(std::uint32_t spi, const IpAddress& inner) const;
  // tcp: auto moved `peer` to a stream (TcpTransport::set_moved_handler): its installed SAs follow.
  void peer_moved_to_tcp(const IpAddress& peer);
  // Whether an installed SA sends to the shim at this address (TcpTransport::set_shim_in_use).
  bool shim_in_use(const IpAddress& shim) const;
  void on_expire(const dataplane::ExpireEvent& e) override;
  void on_acquire(const dataplane::AcquireEvent& e) override;
  void on_mapping(const dataplane::MappingEvent& m) override;

  std::unique_ptr<dataplane::SaBackend> inner_;
  TcpTransport& transport_;
  dataplane::EventListener* listener_ = nullptr;
  // Every SA added through here: (SPI, destination as the IKE core names it) -> its direction and
  // its destination in the engine (a shim or 127.0.0.1 for a peer on a stream), and back.
  using Name = std::pair<std::uint32_t, IpAddress>;
  struct Entry {
    dataplane::Direction direction = dataplane::Direction::In;
    IpAddress inner_dst;
    IpAddress peer;  // the remote address as the IKE core names it
  };
  void rename(std::uint32_t spi, const IpAddress& outer, Entry e);
  void forget(std::uint32_t spi, const IpAddress& outer);
  std::map<Name, Entry> names_;
  std::map<Name, IpAddress> outer_names_;
};

}  // namespace natgate::gateway::core
