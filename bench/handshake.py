#!/usr/bin/env python3
"""Handshake time of the provider binary as Terraform starts it: from
process start to the go-plugin handshake line on stdout, with AutoMTLS
(a client certificate in PLUGIN_CLIENT_CERT). Prints the median of N starts.

    python3 bench/handshake.py [BINARY] [N]
"""
import os, subprocess, statistics, sys, tempfile, time

binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/terraform-provider-cfai"
n = int(sys.argv[2]) if len(sys.argv) > 2 else 25
with tempfile.TemporaryDirectory() as d:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521",
                    "-keyout", f"{d}/k.pem", "-out", f"{d}/c.pem", "-days", "1", "-nodes", "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    cert = open(f"{d}/c.pem").read()
env = dict(os.environ,
           TF_PLUGIN_MAGIC_COOKIE="d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
           PLUGIN_PROTOCOL_VERSIONS="6", PLUGIN_MIN_PORT="10000", PLUGIN_MAX_PORT="25000",
           PLUGIN_CLIENT_CERT=cert)
times = []
for _ in range(n):
    start = time.perf_counter()
    p = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline()
    times.append((time.perf_counter() - start) * 1000)
    p.kill(); p.wait()
    assert line.startswith(b"1|6|tcp|"), line
print(f"handshake: median {statistics.median(times):.1f} ms over {n} starts (min {min(times):.1f}, max {max(times):.1f})")
