# shellcheck shell=bash
# tools/compare/services.sh — the office's real services, Debian's OpenSSH sshd and nginx, run
# only inside the srv namespace with configs, keys, logs and content in the run's temp dir, and
# ended (by PID) when the run ends. Nothing on the host is configured or started.
#
#   svc_prepare            host key, client key, configs, a small page and a 100 MB file
#   svc_start              start sshd and nginx in srv; wait until both answer
#   svc_stop               stop them
#   svc_failed_passwords   how many password attempts reached sshd's authentication so far

SVC_DIR="" SVC_SSHD_PID="" SVC_NGINX_PID=""
SVC_BLOB_MB=${SVC_BLOB_MB:-100}

svc_prepare() {
  SVC_DIR=$IO_DIR/svc
  mkdir -p "$SVC_DIR"/{www/upload,nginx-tmp}
  ssh-keygen -q -t ed25519 -N '' -C compare-host -f "$SVC_DIR/ssh_host_ed25519_key" || fail "ssh host key"
  ssh-keygen -q -t ed25519 -N '' -C compare-user -f "$SVC_DIR/id_user" || fail "ssh user key"
  cp "$SVC_DIR/id_user.pub" "$SVC_DIR/authorized_keys"
  # sshd refuses to start without its privilege-separation directory (Debian's tmpfiles make it
  # at boot; a container has none). An empty root-owned directory, nothing else on the host.
  [[ -d /run/sshd ]] || install -d -m 0755 /run/sshd
  cat >"$SVC_DIR/sshd_config" <<EOF
# tools/compare: the office server's sshd, as a typical small office runs it (password logins on)
Port 22
ListenAddress 0.0.0.0
HostKey $SVC_DIR/ssh_host_ed25519_key
PidFile $SVC_DIR/sshd.pid
AuthorizedKeysFile $SVC_DIR/authorized_keys
# The keys live in the run's temp dir under /tmp (world-writable): skip the ownership walk.
StrictModes no
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
MaxStartups 200:30:400
# A session without a login shell (whose start-up files belong to the host, not to the test).
Subsystem probe internal-sftp
LogLevel VERBOSE
EOF
  cat >"$SVC_DIR/nginx.conf" <<EOF
# tools/compare: the office's web server (a stand-in for an admin panel), plus PUT for uploads
# Workers run as root only because every file lives in the run's private (0700) temp dir.
user root;
worker_processes 1;
pid $SVC_DIR/nginx.pid;
error_log $SVC_DIR/nginx-error.log;
events { worker_connections 512; }
http {
  access_log $SVC_DIR/nginx-access.log;
  client_body_temp_path $SVC_DIR/nginx-tmp/body;
  proxy_temp_path $SVC_DIR/nginx-tmp/proxy;
  fastcgi_temp_path $SVC_DIR/nginx-tmp/fastcgi;
  uwsgi_temp_path $SVC_DIR/nginx-tmp/uwsgi;
  scgi_temp_path $SVC_DIR/nginx-tmp/scgi;
  sendfile on;
  server {
    listen 80;
    root $SVC_DIR/www;
    location /upload/ { dav_methods PUT DELETE; client_max_body_size 0; }
  }
}
EOF
  echo "<html><body>office admin panel</body></html>" >"$SVC_DIR/www/index.html"
  head -c "$((SVC_BLOB_MB * 1024 * 1024))" /dev/urandom >"$SVC_DIR/www/blob" || fail "test file"
  cp "$SVC_DIR/www/blob" "$IO_DIR/upload.bin"
}

_svc_answers() {
  nsx srv ss -Hltn 'sport = :22' | grep -q LISTEN && nsx srv ss -Hltn 'sport = :80' | grep -q LISTEN
}

svc_start() {
  netns_spawn srv "$SVC_DIR/sshd.log" /usr/sbin/sshd -D -e -f "$SVC_DIR/sshd_config"
  SVC_SSHD_PID=$NETNS_LAST_PID
  netns_spawn srv "$SVC_DIR/nginx.out" nginx -e "$SVC_DIR/nginx-error.log" -c "$SVC_DIR/nginx.conf" -g 'daemon off;'
  SVC_NGINX_PID=$NETNS_LAST_PID
  wait_until 10 _svc_answers || { tail -5 "$SVC_DIR/sshd.log" "$SVC_DIR/nginx-error.log" >&2; fail "sshd/nginx did not start in srv"; }
}

svc_stop() {
  [[ -n $SVC_SSHD_PID ]] && io_stop_pid "$SVC_SSHD_PID" sshd 3
  [[ -n $SVC_NGINX_PID ]] && io_stop_pid "$SVC_NGINX_PID" nginx 3
  SVC_SSHD_PID="" SVC_NGINX_PID=""
}

svc_failed_passwords() { grep -c 'Failed password for' "$SVC_DIR/sshd.log"; }
