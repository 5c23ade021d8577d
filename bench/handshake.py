#!/usr/bin/env python3
"""Start-up of the provider binary as Terraform starts it, with AutoMTLS (a
P-521 client certificate in PLUGIN_CLIENT_CERT, like Terraform's):

- handshake: process start -> the go-plugin handshake line on stdout;
- ready: process start -> mTLS accepted and the server's HTTP/2 preface
  read (what the first RPC waits for: key exchange, both signatures, the
  pinned-certificate check).

Prints the median of N starts of each.

    python3 bench/handshake.py [BINARY] [N]
"""
import base64, os, socket, ssl, statistics, subprocess, sys, tempfile, time

binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/terraform-provider-cfai"
n = int(sys.argv[2]) if len(sys.argv) > 2 else 25
work = tempfile.TemporaryDirectory()
d = work.name
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521",
                "-keyout", f"{d}/k.pem", "-out", f"{d}/c.pem", "-days", "1", "-nodes", "-subj", "/CN=localhost"],
               check=True, capture_output=True)
cert = open(f"{d}/c.pem").read()
env = dict(os.environ,
           TF_PLUGIN_MAGIC_COOKIE="d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
           PLUGIN_PROTOCOL_VERSIONS="6", PLUGIN_MIN_PORT="10000", PLUGIN_MAX_PORT="25000",
           PLUGIN_CLIENT_CERT=cert)


def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the server certificate is pinned below
    ctx.load_cert_chain(f"{d}/c.pem", f"{d}/k.pem")
    ctx.set_alpn_protocols(["h2"])
    return ctx


ctx = tls_context()
handshake, ready = [], []
for _ in range(n):
    start = time.perf_counter()
    p = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline()
    handshake.append((time.perf_counter() - start) * 1000)
    assert line.startswith(b"1|6|tcp|"), line
    fields = line.decode().strip().split("|")
    host, port = fields[3].rsplit(":", 1)
    with socket.create_connection((host, int(port))) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            announced = base64.b64decode(fields[5] + "=" * (-len(fields[5]) % 4))
            assert tls.getpeercert(binary_form=True) == announced, "server certificate differs from the handshake's"
            tls.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0]))
            first = tls.recv(9)  # the server's SETTINGS frame header
            ready.append((time.perf_counter() - start) * 1000)
            assert len(first) == 9 and first[3] == 4, first
    p.kill()
    p.wait()


def summary(name, times):
    return f"{name}: median {statistics.median(times):.1f} ms over {n} starts (min {min(times):.1f}, max {max(times):.1f})"


print(summary("handshake", handshake) + "; " + summary("ready for the first RPC", ready))
