#include "tools/cli/cli_app.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "gateway/control/control_client.h"
#include "tools/cli/profile/profile_command.h"
#include "tools/cli/status_view.h"

namespace natgate::cli {

using gateway::ControlClient;
using gateway::ControlRequest;

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  // The name is given: the arguments reach parse() without it, and --help's usage line names it.
  CLI::App app{"natgate: control a running natgated", "natgate"};
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
  gateway::StatusQuery query;
  auto* status = app.add_subcommand("status", "Show the daemon, its connections and their SAs");
  status->add_flag("--json", json, "Print the daemon's JSON instead of the table");
  // The daemon applies the filters (through its SA indexes) and answers with the matching
  // SAs only; each is a literal string of at most StatusQuery::kMaxFilterBytes.
  auto bounded = CLI::Validator(
      [](std::string& v) {
        return v.size() > gateway::StatusQuery::kMaxFilterBytes
                   ? "longer than " + std::to_string(gateway::StatusQuery::kMaxFilterBytes) + " bytes"
                   : std::string();
      },
      "", "bounded");
  status->add_option("--conn", query.connection, "Only this connection (an unknown name is an error)")
      ->type_name("NAME")
      ->check(bounded);
  status
      ->add_option("--id", query.identity,
                   "Only the IKE SAs of this peer identity: fqdn:NAME, email:ADDRESS, ipv4:/ipv6:ADDRESS "
                   "(as status prints them) or as the config writes it")
      ->type_name("IDENTITY")
      ->check(bounded);
  status
      ->add_option("--peer", query.peer, "Only the IKE SAs with the peer at ADDR or ADDR:PORT ([IPv6]:PORT)")
      ->type_name("ADDR[:PORT]")
      ->check(bounded);
  status->add_flag("--summary", query.summary,
                   "Counts only: IKE SAs by state, CHILD SAs, per connection, leases, half-open");
  gateway::StatusQuery list_query;
  list_query.list = true;
  bool list_as_json = false;
  auto* list = app.add_subcommand(
      "list", "List the SAs: each IKE SA on one line, its CHILD SAs beneath (like swanctl --list-sas)");
  list->add_flag("--json", list_as_json, "Print the SAs as a JSON list");
  list->add_option("--conn", list_query.connection, "Only this connection (an unknown name is an error)")
      ->type_name("NAME")
      ->check(bounded);
  list->add_option("--id", list_query.identity, "Only the IKE SAs of this peer identity (as for status)")
      ->type_name("IDENTITY")
      ->check(bounded);
  list->add_option("--peer", list_query.peer, "Only the IKE SAs with the peer at ADDR or ADDR:PORT")
      ->type_name("ADDR[:PORT]")
      ->check(bounded);

  bool counters_as_json = false;
  auto* counters =
      app.add_subcommand("counters", "Show the daemon's counters (drops by reason, exchanges, …)");
  counters->add_flag("--json", counters_as_json, "Print them as a JSON object");

  gateway::RekeyQuery rekey_query;
  auto* rekey = app.add_subcommand(
      "rekey", "Rekey SAs now, as their lifetime would: new keys and SPIs, traffic keeps flowing");
  auto* rekey_ike = rekey
                        ->add_option("--ike", rekey_query.ike_spi,
                                     "The IKE SA with this SPI (either side's, hex as status shows it)")
                        ->type_name("SPI")
                        ->check(bounded);
  auto* rekey_child = rekey
                          ->add_option("--child", rekey_query.child,
                                       "The CHILD SAs of this name, or the one with this ESP SPI (in or out)")
                          ->type_name("NAME|SPI")
                          ->check(bounded);
  rekey
      ->add_option("--conn", rekey_query.connection,
                   "Every IKE SA of this connection (with --child: only its CHILD SAs)")
      ->type_name("NAME")
      ->check(bounded)
      ->excludes(rekey_ike);
  rekey_ike->excludes(rekey_child);

  std::string name;
  auto* up = app.add_subcommand("up", "Bring a connection up (initiate)");
  up->add_option("NAME", name, "Connection name")->required();
  auto* down = app.add_subcommand("down", "Take a connection down (delete its SAs)");
  down->add_option("NAME", name, "Connection name")->required();
  auto* reload = app.add_subcommand("reload", "Re-read the config file and apply the changes");

  gateway::TerminateQuery terminate_query;
  auto* terminate = app.add_subcommand(
      "terminate", "Delete the IKE SAs (and their CHILD SAs) of one peer, telling it; the rest stays up");
  auto* by_id =
      terminate
          ->add_option("--id", terminate_query.identity,
                       "The peer's identity: fqdn:NAME, email:ADDRESS, ipv4:/ipv6:ADDRESS or as the "
                       "config writes it")
          ->type_name("IDENTITY")
          ->check(bounded);
  auto* by_peer = terminate
                      ->add_option("--peer", terminate_query.peer,
                                   "The peer's address: ADDR (any port) or ADDR:PORT ([IPv6]:PORT)")
                      ->type_name("ADDR[:PORT]")
                      ->check(bounded);
  auto* by_ike = terminate
                     ->add_option("--ike", terminate_query.ike_spi,
                                  "The IKE SA with this SPI (either side's, hex as status shows it)")
                     ->type_name("SPI")
                     ->check(bounded);
  by_id->excludes(by_peer)->excludes(by_ike);
  by_peer->excludes(by_ike);

  bool follow = false;
  std::size_t max_events = 0;
  auto* events = app.add_subcommand(
      "events", "Print the daemon's SA events as JSON lines (IKE/CHILD SA up, down, rekey)");
  events->add_flag("--follow,-f", follow, "Keep printing events as they happen (required for now)");
  events->add_option("--count", max_events, "Stop after this many events (0: until interrupted)")
      ->capture_default_str();

  ProfileCommand profile(app);

  // CLI11 takes the arguments reversed and without the program name.
  std::vector<std::string> rest;
  if (!args.empty()) rest.assign(args.rbegin(), args.rend() - 1);
  try {
    app.parse(rest);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err);
  }

  if (profile.chosen()) return profile.run(out, err);  // reads the config file, not the daemon

  ControlRequest request;
  if (*status) {
    request.command = ControlRequest::Command::Status;
    request.query = query;
  }
  if (*list) {
    request.command = ControlRequest::Command::Status;
    request.query = list_query;
  }
  if (*counters) {  // the summary carries the daemon's counters without listing any SA
    request.command = ControlRequest::Command::Status;
    request.query.summary = true;
  }
  if (*rekey) {
    if (rekey_query.ike_spi.empty() && rekey_query.child.empty() && rekey_query.connection.empty()) {
      err << "natgate: rekey needs --ike, --child or --conn\n";
      return 2;
    }
    request.command = ControlRequest::Command::Rekey;
    request.rekey = rekey_query;
  }
  if (*up) request = {ControlRequest::Command::Up, name};
  if (*down) request = {ControlRequest::Command::Down, name};
  if (*reload) request.command = ControlRequest::Command::Reload;
  if (*terminate) {
    if (terminate_query.identity.empty() && terminate_query.peer.empty() && terminate_query.ike_spi.empty()) {
      err << "natgate: terminate needs one of --id, --peer, --ike\n";
      return 2;
    }
    request.command = ControlRequest::Command::Terminate;
    request.terminate = terminate_query;
  }
  if (*events) {
    if (!follow) {
      err << "natgate: events prints what happens from now on: use events --follow\n";
      return 2;
    }
    request.command = ControlRequest::Command::Events;
  }

  auto client = ControlClient::connect(socket);
  if (!client) {
    err << "natgate: " << client.error() << "\n";
    return 1;
  }
  if (request.command == ControlRequest::Command::Events) {
    std::size_t seen = 0;
    Status followed =
        client->follow(request, std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000)),
                       [&](std::string_view line) {
                         out << line << "\n" << std::flush;
                         return max_events == 0 || ++seen < max_events;
                       });
    if (!followed) {
      err << "natgate: " << followed.error() << "\n";
      return 1;
    }
    return 0;
  }
  const bool raw_json = json && *status;
  auto reply = client->request(request, std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000)),
                               raw_json ? gateway::StatusReplyForm::Json : gateway::StatusReplyForm::Parsed);
  if (!reply) {
    err << "natgate: " << reply.error() << "\n";
    return 1;
  }
  if (!reply->ok) {
    err << "natgate: " << reply->message << "\n";
    return 1;
  }
  if (request.command == ControlRequest::Command::Status) {
    if (raw_json ? reply->raw_status_json.empty() : !reply->status) {
      err << "natgate: the daemon's reply has no status\n";
      return 1;
    }
    if (raw_json)
      out << reply->raw_status_json << "\n";
    else if (*list)
      out << (list_as_json ? list_json(*reply->status) : format_list(*reply->status));
    else if (*counters && counters_as_json)
      out << nlohmann::json(reply->status->daemon.counters).dump(2) << "\n";
    else if (*counters)
      out << format_counters(*reply->status);
    else
      out << format_status(*reply->status);
    return 0;
  }
  out << reply->message << "\n";
  return 0;
}

}  // namespace natgate::cli
