// The accept loop both of natgated's local servers use (the control socket, gateway/control/, and
// the metrics endpoint, gateway/metrics/): accept, hand the socket on, accept again, until the
// server closes. An accept error (out of descriptors, …) waits 100 ms before the next try instead
// of spinning on it. Each server keeps its own limits in `take` (too many clients: refuse).
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <type_traits>

namespace natgate::gateway {

// `State` has `acceptor` (a basic_socket_acceptor), `retry_timer` (a steady_timer) and `closed`;
// `take(state, socket)` gets each accepted socket.
template <typename State, typename Take>
void accept_loop(const std::shared_ptr<State>& state, Take take) {
  using Socket = typename std::decay_t<decltype(state->acceptor)>::protocol_type::socket;
  state->acceptor.async_accept([state, take](const boost::system::error_code& ec, Socket socket) {
    if (state->closed || ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      state->retry_timer.expires_after(std::chrono::milliseconds(100));
      state->retry_timer.async_wait([state, take](const boost::system::error_code& e) {
        if (!e && !state->closed) accept_loop(state, take);
      });
      return;
    }
    take(state, std::move(socket));
    accept_loop(state, take);
  });
}

}  // namespace natgate::gateway
