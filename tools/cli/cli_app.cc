#include "tools/cli/cli_app.h"

#include <CLI/CLI.hpp>
#include <chrono>

#include "gateway/control/control_client.h"
#include "tools/cli/status_view.h"

namespace natgate::cli {

using gateway::ControlClient;
using gateway::ControlRequest;

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app{"natgate: control a running natgated"};
  app.require_subcommand(1);
  std::string socket = kDefaultSocket;
  double timeout_s = 30;
  app.add_option("--socket", socket, "natgated's control socket")
      ->envname("NATGATE_SOCKET")
      ->capture_default_str();
  app.add_option("--timeout", timeout_s, "Seconds to wait for the daemon's answer")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();

  bool json = false;
  auto* status = app.add_subcommand("status", "Show the daemon, its connections and their SAs");
  status->add_flag("--json", json, "Print the daemon's JSON instead of the table");
  std::string name;
  auto* up = app.add_subcommand("up", "Bring a connection up (initiate)");
  up->add_option("NAME", name, "Connection name")->required();
  auto* down = app.add_subcommand("down", "Take a connection down (delete its SAs)");
  down->add_option("NAME", name, "Connection name")->required();
  auto* reload = app.add_subcommand("reload", "Re-read the config file and apply the changes");

  // CLI11 takes the arguments reversed and without the program name.
  std::vector<std::string> rest;
  if (!args.empty()) rest.assign(args.rbegin(), args.rend() - 1);
  try {
    app.parse(rest);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err);
  }

  ControlRequest request;
  if (*status) request.command = ControlRequest::Command::Status;
  if (*up) request = {ControlRequest::Command::Up, name};
  if (*down) request = {ControlRequest::Command::Down, name};
  if (*reload) request.command = ControlRequest::Command::Reload;

  auto client = ControlClient::connect(socket);
  if (!client) {
    err << "natgate: " << client.error() << "\n";
    return 1;
  }
  auto reply = client->request(request, std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000)));
  if (!reply) {
    err << "natgate: " << reply.error() << "\n";
    return 1;
  }
  if (!reply->ok) {
    err << "natgate: " << reply->message << "\n";
    return 1;
  }
  if (request.command == ControlRequest::Command::Status) {
    if (!reply->status) {
      err << "natgate: the daemon's reply has no status\n";
      return 1;
    }
    out << (json ? reply->raw_status_json + "\n" : format_status(*reply->status));
    return 0;
  }
  out << reply->message << "\n";
  return 0;
}

}  // namespace natgate::cli
