#!/usr/bin/env python3
"""`natgate profile` (issue 17): each platform's file parsed by an independent reader.

A throw-away PKI (openssl), a gateway config with PSK, EAP-MSCHAPv2 and certificate road-warrior
connections; then every platform's profile is generated and read back: the .mobileconfig with
plistlib, the .sswan as JSON with the fields strongSwan's Android app requires, the PKCS#12
bundles with openssl and the printed password, the natgated YAML with `natgated --check`, the
PowerShell script by its commands (no PowerShell here). Refusals are checked too: platforms that
cannot do a method, proposals Windows cannot offer, users a connection would refuse, hostile
--server text, files that exist, symlinks at the target.

  profile_test.py NATGATE NATGATED
"""
import base64
import json
import os
import plistlib
import re
import subprocess
import sys
import tempfile
import uuid

NATGATE, NATGATED = sys.argv[1], sys.argv[2]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(*args, ok=True):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=60)
    if ok and p.returncode != 0:
        print(p.stdout, p.stderr)
    return p


def sh(cmd, cwd):
    subprocess.run(cmd, shell=True, check=True, cwd=cwd, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def der_of(pem_path, cwd):
    return subprocess.run(["openssl", "x509", "-in", pem_path, "-outform", "DER"], cwd=cwd,
                          capture_output=True, check=True, timeout=30).stdout


def p12_cert_der(p12_bytes, password, cwd):
    path = os.path.join(cwd, "check.p12")
    with open(path, "wb") as f:
        f.write(p12_bytes)
    pem = subprocess.run(["openssl", "pkcs12", "-in", path, "-passin", "pass:" + password, "-clcerts",
                          "-nokeys"], capture_output=True, check=True, timeout=30).stdout
    return subprocess.run(["openssl", "x509", "-outform", "DER"], input=pem, capture_output=True,
                          check=True, timeout=30).stdout


def password_of(stdout):
    m = re.search(r"PKCS#12 password[^:]*: (\S+)", stdout)
    return m.group(1) if m else None


GATEWAY = """\
daemon:
  listen: [0.0.0.0]
  control_socket: {d}/natgate.sock
  ca: [ca.pem]
secrets:
  rw-psk: {{ psk: "group-key-0123456789abcdef" }}
  alice: {{ id: alice@lab.example.net, psk: "alice-key-0123456789abcdef" }}
  office: {{ psk: "office-key-0123456789abcdef" }}
eap_users:
  carol@lab.example.net: {{ password: "carol-pw-0123456789" }}
pools:
  rw: {{ addresses: [10.99.0.0/24], dns: [10.2.0.53] }}
connections:
  rw-psk:
    local: {{ id: vpn.lab.example.net, subnets: [10.2.0.0/24] }}
    remote: {{ address: any, id: any }}
    pool: rw
    auth: psk
    ike_proposals: [aes256gcm16-prfsha256-x25519, aes256gcm16-prfsha256-ecp256]
    esp_proposals: [aes256gcm16]
  rw-eap:
    local: {{ id: vpn.lab.example.net, subnets: [10.2.0.0/24, 10.3.0.0/24], cert: gw.pem, key: gw.key }}
    remote: {{ address: any, id: any }}
    pool: rw
    auth: eap-mschapv2
    ike_proposals: [aes256gcm16-prfsha256-x25519, aes256gcm16-prfsha256-ecp256, aes256-sha256-modp2048]
    esp_proposals: [aes256gcm16, aes256-sha256]
  rw-cert:
    local: {{ id: vpn.lab.example.net, subnets: [10.2.0.0/24], cert: gw.pem, key: gw.key }}
    remote: {{ address: any, id: "*@lab.example.net" }}
    pool: rw
    auth: pubkey
    ike_proposals: [aes256gcm16-prfsha384-ecp384]
    esp_proposals: [aes256gcm16-ecp384]
  rw-modern:
    local: {{ id: vpn.lab.example.net, subnets: [10.2.0.0/24], cert: gw.pem, key: gw.key }}
    remote: {{ address: any, id: any }}
    pool: rw
    auth: eap-mschapv2
    ike_proposals: [chacha20poly1305-prfsha256-x25519]
    esp_proposals: [chacha20poly1305]
  office:
    local: {{ id: vpn.lab.example.net, subnets: [10.2.0.0/24] }}
    remote: {{ address: 198.51.100.7, id: branch.lab.example.net, subnets: [10.7.0.0/24] }}
    auth: psk
    ike_proposals: [aes256gcm16-prfsha256-x25519]
    esp_proposals: [aes256gcm16]
"""


def main():
    with tempfile.TemporaryDirectory(prefix="natgate-profile-") as d:
        ec = "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "
        sh(ec + "ca.key && " + ec + "gw.key && " + ec + "carol.key && " + ec + "other.key && "
           "openssl req -x509 -new -key ca.key -subj '/CN=natgate Test CA' -days 30 -out ca.pem "
           "-addext basicConstraints=critical,CA:true && "
           "openssl req -new -key gw.key -subj /CN=vpn.lab.example.net -out gw.csr && "
           "printf 'subjectAltName=DNS:vpn.lab.example.net\\nextendedKeyUsage=serverAuth\\n' > gw.ext && "
           "openssl x509 -req -in gw.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -extfile gw.ext "
           "-out gw.pem && "
           "openssl req -new -key carol.key -subj /CN=carol@lab.example.net -out carol.csr && "
           "printf 'subjectAltName=email:carol@lab.example.net\\n' > carol.ext && "
           "openssl x509 -req -in carol.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 "
           "-extfile carol.ext -out carol.pem && chmod 600 *.key", d)
        gw = os.path.join(d, "gw.yaml")
        with open(gw, "w") as f:
            f.write(GATEWAY.format(d=d))
        os.chmod(gw, 0o600)
        p = run(NATGATED, "--check", gw)
        check(p.returncode == 0, "the gateway config passes natgated --check")
        ca_der = der_of("ca.pem", d)
        carol_der = der_of("carol.pem", d)

        def profile(platform, conn, *extra, out=None, ok=True):
            out = out or os.path.join(d, platform + "-" + conn)
            return run(NATGATE, "profile", "--for", platform, conn, "--config", gw, "--out", out, *extra, ok=ok), out

        # ---- Apple ------------------------------------------------------------------------
        p, out = profile("apple", "rw-psk", "--user", "alice@lab.example.net")
        check(p.returncode == 0, "apple/psk generated")
        path = os.path.join(out, "rw-psk.mobileconfig")
        check(os.stat(path).st_mode & 0o777 == 0o600, "the profile file is 0600")
        check(os.stat(out).st_mode & 0o777 == 0o700, "the output folder is 0700")
        with open(path, "rb") as f:
            pl = plistlib.load(f)
        check(pl["PayloadType"] == "Configuration", "apple/psk: a Configuration profile")
        vpn = [c for c in pl["PayloadContent"] if c["PayloadType"] == "com.apple.vpn.managed"]
        check(len(vpn) == 1 and vpn[0]["VPNType"] == "IKEv2", "apple/psk: one IKEv2 VPN payload")
        ik = vpn[0]["IKEv2"]
        check(ik["AuthenticationMethod"] == "SharedSecret", "apple/psk: SharedSecret")
        check(ik["SharedSecret"] == "alice-key-0123456789abcdef", "apple/psk: alice's own key, not the group key")
        check(ik["RemoteIdentifier"] == "vpn.lab.example.net" and ik["RemoteAddress"] == "vpn.lab.example.net",
              "apple/psk: gateway id and address (derived from its FQDN id)")
        check(ik["LocalIdentifier"] == "alice@lab.example.net", "apple/psk: the user's identity")
        check(ik["IKESecurityAssociationParameters"]["DiffieHellmanGroup"] == 31 and
              ik["IKESecurityAssociationParameters"]["EncryptionAlgorithm"] == "AES-256-GCM",
              "apple/psk: the gateway's first proposal (x25519 = 31, AES-256-GCM)")
        uuids = [c["PayloadUUID"] for c in pl["PayloadContent"]] + [pl["PayloadUUID"]]
        check(all(uuid.UUID(u).version == 5 for u in uuids) and len(set(uuids)) == len(uuids),
              "apple/psk: distinct version-5 UUIDs")

        p, out = profile("apple", "rw-eap", "--user", "carol@lab.example.net", "--server", "203.0.113.9")
        with open(os.path.join(out, "rw-eap.mobileconfig"), "rb") as f:
            pl = plistlib.load(f)
        ik = [c for c in pl["PayloadContent"] if c["PayloadType"] == "com.apple.vpn.managed"][0]["IKEv2"]
        root = [c for c in pl["PayloadContent"] if c["PayloadType"] == "com.apple.security.root"]
        check(ik["ExtendedAuthEnabled"] == 1 and ik["AuthName"] == "carol@lab.example.net" and
              ik["AuthenticationMethod"] == "None", "apple/eap: EAP with the user's name, no password in the file")
        check("AuthPassword" not in ik and b"carol-pw" not in open(os.path.join(out, "rw-eap.mobileconfig"), "rb").read(),
              "apple/eap: the EAP password is not in the profile")
        check(ik["RemoteAddress"] == "203.0.113.9", "apple/eap: --server")
        check(len(root) == 1 and root[0]["PayloadContent"] == ca_der, "apple/eap: the CA's DER as root payload")
        check(ik["ServerCertificateIssuerCommonName"] == "natgate Test CA", "apple/eap: issuer CN")

        p, out = profile("apple", "rw-cert", "--user", "carol@lab.example.net", "--cert",
                         os.path.join(d, "carol.pem"), "--key", os.path.join(d, "carol.key"))
        check(p.returncode == 0, "apple/cert generated")
        pw = password_of(p.stdout)
        check(pw is not None and len(pw) == 20, "apple/cert: a PKCS#12 password printed once")
        raw = open(os.path.join(out, "rw-cert.mobileconfig"), "rb").read()
        check(pw is not None and pw.encode() not in raw, "apple/cert: the password is not in the profile")
        pl = plistlib.loads(raw)
        ik = [c for c in pl["PayloadContent"] if c["PayloadType"] == "com.apple.vpn.managed"][0]["IKEv2"]
        p12 = [c for c in pl["PayloadContent"] if c["PayloadType"] == "com.apple.security.pkcs12"]
        check(ik["AuthenticationMethod"] == "Certificate" and len(p12) == 1 and
              ik["PayloadCertificateUUID"] == p12[0]["PayloadUUID"], "apple/cert: the VPN names its pkcs12 payload")
        check(p12_cert_der(p12[0]["PayloadContent"], pw, d) == carol_der,
              "apple/cert: the PKCS#12 opens with the password and holds carol's certificate")
        check(ik["IKESecurityAssociationParameters"]["DiffieHellmanGroup"] == 20 and ik["EnablePFS"] == 1 and
              ik["ChildSecurityAssociationParameters"]["DiffieHellmanGroup"] == 20,
              "apple/cert: ecp384 (20) and PFS from the ESP proposal")

        # ---- Android (strongSwan) ------------------------------------------------------------
        p, out = profile("android", "rw-eap", "--user", "carol@lab.example.net")
        j = json.load(open(os.path.join(out, "rw-eap.sswan")))
        check(all(k in j for k in ("uuid", "name", "type")) and "addr" in j["remote"],
              "android/eap: the required keys uuid, name, type, remote.addr")
        check(j["type"] == "ikev2-eap" and j["local"]["eap_id"] == "carol@lab.example.net", "android/eap: type, eap_id")
        check(base64.b64decode(j["remote"]["cert"]) == ca_der, "android/eap: remote.cert is the CA")
        check(j["remote"]["id"] == "vpn.lab.example.net", "android/eap: remote.id")
        check(j["ike-proposal"] == "aes256gcm16-prfsha256-x25519" and j["esp-proposal"] == "aes256gcm16",
              "android/eap: the gateway's proposals as strongSwan strings")
        check(j["split-tunneling"]["subnets"] == ["10.2.0.0/24", "10.3.0.0/24"], "android/eap: split tunnel subnets")
        first_uuid = j["uuid"]
        p, _ = profile("android", "rw-eap", "--user", "carol@lab.example.net", "--force", out=out)
        check(json.load(open(os.path.join(out, "rw-eap.sswan")))["uuid"] == first_uuid,
              "android/eap: regenerating gives the same UUID (replaces on import)")
        p, _ = profile("android", "rw-eap", "--user", "carol@lab.example.net", out=out, ok=False)
        check(p.returncode != 0 and "--force" in p.stderr, "an existing file is not replaced without --force")

        p, out = profile("android", "rw-cert", "--user", "carol@lab.example.net", "--cert",
                         os.path.join(d, "carol.pem"), "--key", os.path.join(d, "carol.key"))
        j = json.load(open(os.path.join(out, "rw-cert.sswan")))
        check(j["type"] == "ikev2-cert" and j["local"]["id"] == "carol@lab.example.net", "android/cert: type, id")
        check(p12_cert_der(base64.b64decode(j["local"]["p12"]), password_of(p.stdout), d) == carol_der,
              "android/cert: local.p12 holds carol's certificate")
        p, _ = profile("android", "rw-psk", ok=False)
        check(p.returncode == 1 and "pre-shared" in p.stderr, "android/psk refused: " + p.stderr.strip())

        # ---- Windows ------------------------------------------------------------------------
        p, out = profile("windows", "rw-eap", "--user", "carol@lab.example.net")
        ps = open(os.path.join(out, "rw-eap.ps1")).read()
        check(re.search(r"Add-VpnConnection -Name \$Name -ServerAddress 'vpn\.lab\.example\.net' -TunnelType Ikev2 "
                        r"-EncryptionLevel Required -AuthenticationMethod Eap", ps) is not None,
              "windows/eap: Add-VpnConnection IKEv2 with EAP")
        check("-EncryptionMethod GCMAES256 -IntegrityCheckMethod SHA256 -DHGroup ECP256 "
              "-CipherTransformConstants GCMAES256 -AuthenticationTransformConstants GCMAES256 -PfsGroup None" in ps,
              "windows/eap: the first proposal Windows can offer (ecp256, not x25519)")
        m = re.search(r"FromBase64String\('([A-Za-z0-9+/=]+)'\)\)\nImport-Certificate", ps)
        check(m is not None and base64.b64decode(m.group(1)) == ca_der, "windows/eap: the CA it imports")
        check(ps.count("Add-VpnConnectionRoute") == 2 and "'10.3.0.0/24'" in ps, "windows/eap: a route per subnet")
        p, _ = profile("windows", "rw-modern", "--user", "carol@lab.example.net", ok=False)
        check(p.returncode == 1 and "Windows can offer" in p.stderr, "windows: x25519/chacha-only refused: " +
              p.stderr.strip())
        p, _ = profile("windows", "rw-psk", ok=False)
        check(p.returncode == 1 and "pre-shared" in p.stderr, "windows/psk refused")
        p, out = profile("windows", "rw-cert", "--user", "carol@lab.example.net", "--cert",
                         os.path.join(d, "carol.pem"), "--key", os.path.join(d, "carol.key"))
        ps = open(os.path.join(out, "rw-cert.ps1")).read()
        check("-AuthenticationMethod MachineCertificate" in ps and "Import-PfxCertificate" in ps and
              "-DHGroup ECP384" in ps and "-PfsGroup ECP384" in ps, "windows/cert: machine certificate, ecp384, PFS")
        check(password_of(p.stdout) not in ps, "windows/cert: the PKCS#12 password is not in the script")

        # ---- natgated -----------------------------------------------------------------------
        for conn, extra in (("rw-psk", ["--user", "alice@lab.example.net"]),
                            ("rw-eap", ["--user", "carol@lab.example.net"]),
                            ("rw-cert", ["--user", "carol@lab.example.net", "--cert", os.path.join(d, "carol.pem"),
                                         "--key", os.path.join(d, "carol.key")])):
            p, out = profile("natgate", conn, *extra)
            y = os.path.join(out, conn + ".yaml")
            c = run(NATGATED, "--check", y)
            check(p.returncode == 0 and c.returncode == 0, "natgate/%s: the client YAML passes natgated --check %s"
                  % (conn, c.stderr.strip()))
        text = open(os.path.join(d, "natgate-rw-psk", "rw-psk.yaml")).read()
        check('"alice-key-0123456789abcdef"' in text and "start: initiate" in text and "vips: [0.0.0.0]" in text,
              "natgate/psk: alice's key, initiate, asks for a virtual IP")

        # ---- refusals -----------------------------------------------------------------------
        p, _ = profile("apple", "rw-psk", "--user", "alice@lab.example.net", "--server", "x'; rm -rf /", ok=False)
        check(p.returncode == 1 and "neither a host name" in p.stderr, "hostile --server refused")
        p, _ = profile("apple", "rw-cert", "--user", "mallory@evil.example", "--cert", os.path.join(d, "carol.pem"),
                       "--key", os.path.join(d, "carol.key"), ok=False)
        check(p.returncode == 1 and "accepts only" in p.stderr, "a user the connection refuses is refused")
        p, _ = profile("apple", "rw-cert", "--user", "carol@lab.example.net", "--cert", os.path.join(d, "carol.pem"),
                       "--key", os.path.join(d, "other.key"), ok=False)
        check(p.returncode == 1 and "is not the key of" in p.stderr, "a key that is not the certificate's is refused")
        p, _ = profile("apple", "office", ok=False)
        check(p.returncode == 1 and "not for road warriors" in p.stderr, "a site-to-site connection is refused")
        p, _ = profile("apple", "nope", ok=False)
        check(p.returncode == 1 and "rw-psk" in p.stderr, "an unknown connection lists the known ones")
        p, _ = profile("android", "rw-eap", "--user", "nobody@lab.example.net", ok=False)
        check(p.returncode == 1 and "no EAP user" in p.stderr, "an EAP user not in eap_users is refused")
        trap = os.path.join(d, "trap")
        os.makedirs(trap)
        victim = os.path.join(d, "victim")
        open(victim, "w").write("untouched\n")
        os.symlink(victim, os.path.join(trap, "rw-eap.sswan"))
        p, _ = profile("android", "rw-eap", "--user", "carol@lab.example.net", "--force", out=trap, ok=False)
        check(p.returncode == 1 and open(victim).read() == "untouched\n", "a symlink at the target is not followed")

    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
