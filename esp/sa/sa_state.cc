#include "esp/sa/sa_state.h"

#include <algorithm>

namespace natgate::esp {

namespace {
// Without ESN, ask for a rekey this many packets before the 32-bit space ends (at line rate of
// ~400k packets/s that leaves ~40 s for the CHILD_SA rekey).
constexpr std::uint64_t kSeqSoftMargin = std::uint64_t{1} << 24;
}  // namespace

Expected<std::shared_ptr<SaState>> SaState::create(const SaConfig& c, std::size_t path_mtu,
                                                   Clock::time_point now, SelectorPool* pool) {
  if (!c.spi.is_valid_for_sa()) return unexpected("SPI " + std::to_string(c.spi.value) + " is reserved");
  if (c.direction != dataplane::Direction::In && c.direction != dataplane::Direction::Out)
    return unexpected(std::string("an ESP SA is inbound or outbound"));
  auto crypto = EspCrypto::create(
      c.suite, c.encr_keymat, c.integ_key,
      c.direction == dataplane::Direction::Out ? EspCrypto::Role::Seal : EspCrypto::Role::Open,
      EspCrypto::AeadPath::Fastest, EspCrypto::Keying::Lazy);
  if (!crypto) return unexpected(crypto.error());
  // Only an inbound SA checks its selectors (RFC 4301 §5.2, SaTable::inbound_admits); an
  // outbound one is chosen by policy and keeps none, and has no replay window.
  if (c.direction == dataplane::Direction::Out)
    return std::make_shared<SaState>(Token{}, c, std::move(*crypto), ReplayWindow::none(), path_mtu, now,
                                     nullptr);
  auto replay = ReplayWindow::create(c.replay_window, c.suite.esn);
  if (!replay) return unexpected(replay.error());
  if (c.local_ts.size() > 0xFFFF) return unexpected(std::string("too many selectors"));
  SelectorPool own;
  auto local = (pool != nullptr ? pool : &own)->intern(c.local_ts);
  return std::make_shared<SaState>(Token{}, c, std::move(*crypto), std::move(*replay), path_mtu, now,
                                   std::move(local));
}

SaState::SaState(Token, const SaConfig& c, std::unique_ptr<EspCrypto> crypto, ReplayWindow replay,
                 std::size_t path_mtu, Clock::time_point now, SelectorPool::List local_ts)
    : spi_(c.spi),
      reqid_(c.reqid),
      path_mtu_(static_cast<std::uint32_t>(std::min<std::size_t>(path_mtu, 0xFFFFFFFFu))),
      direction_(c.direction),
      esn_(c.suite.esn),
      local_count_(local_ts ? static_cast<std::uint16_t>(c.local_ts.size()) : 0),
      if_id_(c.if_id),
      crypto_(std::move(crypto)),
      replay_(std::move(replay)),
      last_seq_(c.last_sequence),
      soft_(c.soft),
      hard_(c.hard),
      local_ts_(std::move(local_ts)),
      remote_ts_(c.direction == dataplane::Direction::In ? c.remote_ts : std::vector<TrafficSelector>{}),
      installed_(now) {}

std::size_t SaState::max_inner(IpFamily outer, bool udp_encap) const {
  const std::size_t outer_headers = (outer == IpFamily::V4 ? 20 : 40) + (udp_encap ? 8 : 0);
  if (path_mtu_ <= outer_headers) return 0;
  return crypto_->max_inner_bytes(path_mtu_ - outer_headers);
}

std::optional<SequenceNumber> SaState::next_sequence() {
  if (last_seq_ >= seq_hard_limit()) return std::nullopt;
  return SequenceNumber(++last_seq_);
}

SaState::Expiry SaState::raise(bool hard) {
  if (hard) {
    if (hard_raised_.exchange(true, std::memory_order_relaxed)) return Expiry::None;
    soft_raised_.store(true, std::memory_order_relaxed);  // a hard expiry supersedes the soft one
    return Expiry::Hard;
  }
  if (soft_raised_.exchange(true, std::memory_order_relaxed)) return Expiry::None;
  return Expiry::Soft;
}

SaState::Expiry SaState::check_volume() {
  const std::uint64_t bytes = stats_.bytes.load(std::memory_order_relaxed);
  const std::uint64_t packets = stats_.packets.load(std::memory_order_relaxed);
  const bool seq_out = direction_ == dataplane::Direction::Out;
  if ((hard_.bytes && bytes >= hard_.bytes) || (hard_.packets && packets >= hard_.packets) ||
      (seq_out && last_seq_ >= seq_hard_limit()))
    return raise(true);
  if ((soft_.bytes && bytes >= soft_.bytes) || (soft_.packets && packets >= soft_.packets) ||
      (seq_out && last_seq_ >= seq_hard_limit() - kSeqSoftMargin))
    return raise(false);
  return Expiry::None;
}

std::optional<Clock::time_point> SaState::due(std::uint64_t seconds) const {
  // Beyond a century is never (and keeps the time_point arithmetic from overflowing).
  constexpr std::uint64_t kNever = 100ull * 365 * 24 * 3600;
  if (seconds == 0 || seconds > kNever) return std::nullopt;
  return installed_ + std::chrono::seconds(static_cast<std::int64_t>(seconds));
}

SaState::Expiry SaState::check_time(Clock::time_point now) {
  const auto age = std::chrono::duration_cast<std::chrono::seconds>(now - installed_).count();
  if (hard_.seconds && static_cast<std::uint64_t>(age) >= hard_.seconds) return raise(true);
  if (soft_.seconds && static_cast<std::uint64_t>(age) >= soft_.seconds) return raise(false);
  return Expiry::None;
}

}  // namespace natgate::esp
