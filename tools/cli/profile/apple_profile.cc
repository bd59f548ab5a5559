// An Apple configuration profile (iOS, iPadOS, macOS): an XML property list whose top-level
// "Configuration" payload carries a com.apple.vpn.managed payload (VPNType IKEv2), the
// gateway's CA as com.apple.security.root and, for certificate users, the client's PKCS#12 as
// com.apple.security.pkcs12 (the device asks for its password when the profile is installed).
#include <sstream>

#include "tools/cli/profile/platform_algorithms.h"
#include "tools/cli/profile/profile_writers.h"

namespace natgate::cli {

namespace {

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A small plist writer: keys and values in document order, indented like Apple's own files.
class Plist {
 public:
  void open_dict(std::string_view key = {}) {
    this->key(key);
    line("<dict>");
    ++depth_;
  }
  void close_dict() {
    --depth_;
    line("</dict>");
  }
  void open_array(std::string_view key) {
    this->key(key);
    line("<array>");
    ++depth_;
  }
  void close_array() {
    --depth_;
    line("</array>");
  }
  void string(std::string_view key, std::string_view value) {
    this->key(key);
    line("<string>" + xml_escape(value) + "</string>");
  }
  void integer(std::string_view key, long long value) {
    this->key(key);
    line("<integer>" + std::to_string(value) + "</integer>");
  }
  void boolean(std::string_view key, bool value) {
    this->key(key);
    line(value ? "<true/>" : "<false/>");
  }
  void data(std::string_view key, ByteView value) {
    this->key(key);
    line("<data>" + base64(value) + "</data>");
  }
  std::string text() const {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
           "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
           "<plist version=\"1.0\">\n" +
           out_.str() + "</plist>\n";
  }

 private:
  void key(std::string_view k) {
    if (!k.empty()) line("<key>" + xml_escape(k) + "</key>");
  }
  void line(const std::string& s) {
    out_ << std::string(2 * static_cast<std::size_t>(depth_), ' ') << s << "\n";
  }
  std::ostringstream out_;
  int depth_ = 0;
};

void payload_header(Plist& pl, const ClientProfile& p, std::string_view type, std::string_view part,
                    std::string_view display) {
  pl.string("PayloadType", type);
  pl.string("PayloadIdentifier", "net.natgate.profile." + p.connection + "." + std::string(part));
  pl.string("PayloadUUID", profile_uuid(p, "apple", part));
  pl.integer("PayloadVersion", 1);
  pl.string("PayloadDisplayName", display);
}

void sa_parameters(Plist& pl, std::string_view key, const AppleSaParameters& a, gateway::Duration lifetime) {
  pl.open_dict(key);
  pl.string("EncryptionAlgorithm", a.encryption);
  pl.string("IntegrityAlgorithm", a.integrity);
  pl.integer("DiffieHellmanGroup", a.dh_group);
  pl.integer("LifeTimeInMinutes", std::max<long long>(10, lifetime.count() / 60));
  pl.close_dict();
}

}  // namespace

Expected<std::vector<ProfileFile>> write_apple_profile(const ClientProfile& p, const Pkcs12Bundle* bundle) {
  auto algs = apple_settings(p.ike_proposals, p.esp_proposals);
  if (!algs) return unexpected(algs.error());
  if (p.auth == ClientAuth::Certificate && !bundle)
    return unexpected(std::string("Apple: certificate users need the PKCS#12 bundle"));

  Plist pl;
  pl.open_dict();
  pl.open_array("PayloadContent");

  pl.open_dict();
  payload_header(pl, p, "com.apple.vpn.managed", "vpn", display_name(p));
  pl.string("UserDefinedName", display_name(p));
  pl.string("VPNType", "IKEv2");
  pl.open_dict("IKEv2");
  pl.string("RemoteAddress", p.server);
  pl.string("RemoteIdentifier", p.gateway_id.text());
  pl.string("LocalIdentifier", p.client_id ? p.client_id->text() : std::string());
  switch (p.auth) {
    case ClientAuth::Psk:
      pl.string("AuthenticationMethod", "SharedSecret");
      pl.string("SharedSecret", std::string(reinterpret_cast<const char*>(p.psk.data()), p.psk.size()));
      pl.integer("ExtendedAuthEnabled", 0);
      break;
    case ClientAuth::EapMschapv2:
      // No client certificate: the gateway proves itself with its certificate, the user with
      // EAP-MSCHAPv2 (the device asks for the password).
      pl.string("AuthenticationMethod", "None");
      pl.integer("ExtendedAuthEnabled", 1);
      pl.string("AuthName", p.client_id ? p.client_id->text() : std::string());
      break;
    case ClientAuth::Certificate:
      pl.string("AuthenticationMethod", "Certificate");
      pl.integer("ExtendedAuthEnabled", 0);
      pl.string("PayloadCertificateUUID", profile_uuid(p, "apple", "pkcs12"));
      break;
    case ClientAuth::EapTls:
      return unexpected(std::string("Apple: EAP-TLS profiles are not generated yet"));
  }
  if (!p.ca_common_name.empty()) pl.string("ServerCertificateIssuerCommonName", p.ca_common_name);
  sa_parameters(pl, "IKESecurityAssociationParameters", algs->ike, p.lifetimes.ike);
  sa_parameters(pl, "ChildSecurityAssociationParameters", algs->child, p.lifetimes.child);
  pl.integer("EnablePFS", algs->enable_pfs ? 1 : 0);
  pl.string("DeadPeerDetectionRate", p.dpd.count() == 0 ? "None" : p.dpd.count() <= 60 ? "Medium" : "Low");
  pl.integer("DisableMOBIKE", 0);
  pl.integer("DisableRedirect", 0);
  pl.integer("UseConfigurationAttributeInternalIPSubnet", 0);
  pl.close_dict();  // IKEv2
  pl.close_dict();  // vpn payload

  if (!p.ca_der.empty()) {
    pl.open_dict();
    payload_header(pl, p, "com.apple.security.root", "ca",
                   p.ca_common_name.empty() ? "CA" : p.ca_common_name);
    pl.data("PayloadContent", p.ca_der);
    pl.close_dict();
  }
  if (bundle && p.auth == ClientAuth::Certificate) {
    pl.open_dict();
    payload_header(pl, p, "com.apple.security.pkcs12", "pkcs12",
                   p.client_id ? p.client_id->text() : "client");
    pl.string("PayloadCertificateFileName", p.connection + ".p12");
    pl.data("PayloadContent", bundle->der);
    pl.close_dict();
  }
  pl.close_array();

  payload_header(pl, p, "Configuration", "profile", display_name(p));
  pl.string("PayloadDescription", "IKEv2 VPN to " + p.server + " (natgate connection " + p.connection + ")");
  pl.boolean("PayloadRemovalDisallowed", false);
  pl.close_dict();
  return std::vector<ProfileFile>{{p.connection + ".mobileconfig", pl.text()}};
}

}  // namespace natgate::cli
