#include "tools/cli/profile/profile_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gateway/config/config_loader.h"
#include "tools/cli/profile/profile_writers.h"

namespace natgate::cli {

namespace {

// Profiles carry keys and passwords: 0600, and an existing file is replaced only with --force
// (never followed if it is a symlink: O_NOFOLLOW).
Status write_private_file(const std::string& path, const std::string& content, bool force) {
  int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (force ? O_TRUNC : O_EXCL);
  int fd = ::open(path.c_str(), flags, 0600);
  if (fd < 0)
    return unexpected(path + ": " + std::strerror(errno) +
                      (errno == EEXIST ? " (use --force to replace it)" : ""));
  ::fchmod(fd, 0600);
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      ::close(fd);
      return unexpected(path + ": " + std::strerror(e));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) return unexpected(path + ": " + std::strerror(errno));
  return {};
}

}  // namespace

ProfileCommand::ProfileCommand(CLI::App& app) {
  command_ = app.add_subcommand(
      "profile",
      "Write a road warrior's client profile for one connection of the gateway's config "
      "(Windows PowerShell, Apple .mobileconfig, strongSwan Android .sswan, natgated YAML)");
  command_->add_option("--for", platform_, "windows, apple, android or natgate")
      ->required()
      ->check(CLI::IsMember({"windows", "apple", "android", "natgate"}));
  command_
      ->add_option("CONNECTION", request_.connection, "The remote-access connection in the gateway's config")
      ->required();
  command_->add_option("--user", request_.user,
                       "The client's identity: its EAP identity, the identity its certificate holds, or its "
                       "PSK identity");
  command_->add_option("--server", request_.server,
                       "Where clients dial: the gateway's public name or address (default: the gateway's id "
                       "when it is a host name or address)");
  command_->add_option("--config", config_path_, "The gateway's config file")->capture_default_str();
  command_->add_option("--out", out_dir_, "Folder to write the files to (created 0700)")
      ->capture_default_str();
  command_->add_option("--cert", cert_, "Certificate users: the client's certificate (PEM)");
  command_->add_option("--key", key_, "Certificate users: the client's private key (PEM)");
  command_->add_flag("--force", force_, "Replace files that exist");
}

int ProfileCommand::run(std::ostream& out, std::ostream& err) const {
  ProfileRequest request = request_;
  request.platform = *parse_profile_platform(platform_);
  if (cert_.empty() != key_.empty()) {
    err << "natgate: profile: --cert and --key go together\n";
    return 2;
  }
  if (!cert_.empty()) request.credential = ClientCredential{cert_, key_};

  auto loaded = gateway::load_config_file(config_path_);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) err << "natgate: " << e.to_string() << "\n";
    return 1;
  }
  auto profile = build_client_profile(*loaded.config, request);
  if (!profile) {
    err << "natgate: profile: " << profile.error() << "\n";
    return 1;
  }
  std::optional<Pkcs12Bundle> bundle;
  const bool wants_bundle = profile->credential && request.platform != ProfilePlatform::Natgate;
  if (wants_bundle) {
    auto made = make_pkcs12(profile->credential->cert_path, profile->credential->key_path, profile->ca_der,
                            profile->client_id ? profile->client_id->text() : "natgate client");
    if (!made) {
      err << "natgate: profile: " << made.error() << "\n";
      return 1;
    }
    bundle = std::move(*made);
  }
  Expected<std::vector<ProfileFile>> files = unexpected(std::string("unknown platform"));
  switch (request.platform) {
    case ProfilePlatform::Windows:
      files = write_windows_profile(*profile, bundle ? &*bundle : nullptr);
      break;
    case ProfilePlatform::Apple:
      files = write_apple_profile(*profile, bundle ? &*bundle : nullptr);
      break;
    case ProfilePlatform::Android:
      files = write_sswan_profile(*profile, bundle ? &*bundle : nullptr);
      break;
    case ProfilePlatform::Natgate:
      files = write_natgate_profile(*profile);
      break;
  }
  if (!files) {
    err << "natgate: profile: " << files.error() << "\n";
    return 1;
  }
  if (::mkdir(out_dir_.c_str(), 0700) != 0 && errno != EEXIST) {
    err << "natgate: profile: " << out_dir_ << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  for (const auto& f : *files) {
    const std::string path = out_dir_ + "/" + f.name;
    if (Status s = write_private_file(path, f.content, force_); !s) {
      err << "natgate: profile: " << s.error() << "\n";
      return 1;
    }
    out << "wrote " << path << "\n";
  }
  if (bundle) {
    // Shown once, never written: the bundle and its password travel apart.
    out << "PKCS#12 password (give it to the user separately; it is not stored anywhere): "
        << std::string_view(reinterpret_cast<const char*>(bundle->password.data()), bundle->password.size())
        << "\n";
  }
  return 0;
}

}  // namespace natgate::cli
