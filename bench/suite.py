#!/usr/bin/env python3
"""On-demand benchmark suite (not CI): the cfai provider against Terraform's
built-in `terraform_data` carrying the same input, in one run, alternating,
median of ROUNDS. Writes the figures, with the command, to BENCHMARKS.md
between the "suite" markers.

    cargo build --release && python3 bench/suite.py [--tokens 200] [--instances 50] [--rounds 3]

Needs terraform (TF_ACC_TERRAFORM_PATH or PATH) and openssl (handshake).
"""
import argparse, json, os, re, shutil, statistics, subprocess, sys, tempfile, threading, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("CFAI_BENCH_BIN") or os.path.join(ROOT, "target", "release")
ACCOUNT = "0123456789abcdef0123456789abcdef"
TOKEN = "bench-token"

p = argparse.ArgumentParser()
p.add_argument("--tokens", type=int, default=200)
p.add_argument("--instances", type=int, default=50)
p.add_argument("--rounds", type=int, default=3)
p.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
args = p.parse_args()
TF = os.environ.get("TF_ACC_TERRAFORM_PATH") or shutil.which("terraform") or os.path.join(ROOT, "..", "shared", "bin", "terraform")
COMMAND = f"cargo build --release && python3 bench/suite.py --tokens {args.tokens} --instances {args.instances} --rounds {args.rounds}"

work = tempfile.mkdtemp(prefix="cfai-bench-")
emu = subprocess.Popen([os.path.join(BIN, "cfai-emulator"), "--port", "0", "--token", TOKEN, "--account-id", ACCOUNT],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
BASE = emu.stdout.readline().strip()
ADMIN = BASE.replace("/client/v4", "")

def admin(path, body=None):
    req = urllib.request.Request(ADMIN + path, data=None if body is None else json.dumps(body).encode(),
                                 headers={"content-type": "application/json"}, method="GET" if body is None else "POST")
    return json.loads(urllib.request.urlopen(req).read() or b"{}")

cli = os.path.join(work, "cli.tfrc")
open(cli, "w").write('provider_installation {\n  dev_overrides { "seed/cfai" = "%s" }\n  direct {}\n}\n' % BIN)
ENV = dict(os.environ, TF_CLI_CONFIG_FILE=cli, TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")

def provider(limits):
    extra = "  rate_limit_per_second = 10000\n  rate_limit_per_5_minutes = 1000000\n" if limits == "raised" else ""
    return ('terraform {\n  required_providers {\n    cfai = { source = "seed/cfai" }\n  }\n}\n'
            f'provider "cfai" {{\n  api_token  = "{TOKEN}"\n  account_id = "{ACCOUNT}"\n  base_url   = "{BASE}"\n{extra}}}\n')

def token_config(n, limits):
    body = provider(limits)
    for i in range(n):
        body += (f'resource "cfai_account_api_token" "t{i}" {{\n  name = "bench-{i}"\n'
                 f'  policies = [{{ permission_groups = ["Workers R2 Storage Read"], resources = {{ "com.cloudflare.api.account.{ACCOUNT}" = "*" }} }}]\n}}\n')
    return body

def token_data(n):
    return "".join(f'resource "terraform_data" "t{i}" {{\n  input = {{ name = "bench-{i}", policies = [{{ permission_groups = ["Workers R2 Storage Read"], resources = {{ "com.cloudflare.api.account.{ACCOUNT}" = "*" }} }}] }}\n}}\n' for i in range(n))

def instance_config(n, limits):
    body = provider(limits) + 'resource "cfai_ai_search_service_token" "s" {\n  name = "bench"\n}\n'
    for i in range(n):
        body += f'resource "cfai_ai_search_instance" "i{i}" {{\n  id = "bench-{i}"\n  type = "r2"\n  source = "bucket-{i}"\n  token_id = cfai_ai_search_service_token.s.id\n}}\n'
    return body

def instance_data(n):
    return 'resource "terraform_data" "s" {\n  input = { name = "bench" }\n}\n' + "".join(
        f'resource "terraform_data" "i{i}" {{\n  input = {{ id = "bench-{i}", type = "r2", source = "bucket-{i}", token_id = terraform_data.s.id }}\n}}\n' for i in range(n))

def tf(dirname, *cmd, parallelism=None):
    extra = [f"-parallelism={parallelism}"] if parallelism else []
    start = time.perf_counter()
    r = subprocess.run([TF, *cmd, *extra], cwd=dirname, env=ENV, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if r.returncode not in (0,):
        sys.exit(f"terraform {cmd} failed in {dirname}:\n{r.stdout}\n{r.stderr}")
    return elapsed

def workspace(name, config):
    d = os.path.join(work, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    open(os.path.join(d, "main.tf"), "w").write(config)
    subprocess.run([TF, "init", "-input=false"], cwd=d, env=ENV, capture_output=True)
    return d

def compare(label, cfai_config, data_config, rounds, parallelism=None):
    """apply, refresh-plan, destroy of both, alternating; medians and ratios."""
    times = {op: {"cfai": [], "data": []} for op in ("apply", "refresh-plan", "destroy")}
    for r in range(rounds):
        for kind, config in (("data", data_config), ("cfai", cfai_config)) if r % 2 == 0 else (("cfai", cfai_config), ("data", data_config)):
            d = workspace(f"{label}-{kind}", config)
            times["apply"][kind].append(tf(d, "apply", "-auto-approve", parallelism=parallelism))
            times["refresh-plan"][kind].append(tf(d, "plan", "-detailed-exitcode", parallelism=parallelism))
            times["destroy"][kind].append(tf(d, "destroy", "-auto-approve", parallelism=parallelism))
    rows = []
    for op, t in times.items():
        c, d = statistics.median(t["cfai"]), statistics.median(t["data"])
        rows.append((op, c, d, c / d))
    return rows

def peak_rss_during(fn):
    """The largest VmHWM of any terraform-provider-cfai process while fn runs."""
    peak = [0]
    done = threading.Event()
    def sample():
        while not done.is_set():
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    status = open(f"/proc/{pid}/status").read()
                except OSError:
                    continue
                if "terraform-provi" in status.split("\n", 1)[0]:
                    m = re.search(r"VmHWM:\s+(\d+) kB", status)
                    if m:
                        peak[0] = max(peak[0], int(m.group(1)))
            time.sleep(0.01)
    t = threading.Thread(target=sample)
    t.start()
    try:
        fn()
    finally:
        done.set()
        t.join()
    return peak[0]

out = []
def section(title, rows):
    out.append(f"\n### {title}\n\n| operation | cfai (s) | terraform_data (s) | ratio |\n|---|---|---|---|")
    for op, c, d, ratio in rows:
        out.append(f"| {op} | {c:.2f} | {d:.2f} | **{ratio:.2f}×** |")

N, M, R = args.tokens, args.instances, args.rounds
print(f"emulator at {BASE}; work dir {work}", flush=True)
for limits in ("raised", "default"):
    print(f"tokens, limiter {limits}…", flush=True)
    section(f"{N} account tokens, limiter {limits}", compare(f"tok-{limits}", token_config(N, limits), token_data(N), R))
    print(f"instances, limiter {limits}…", flush=True)
    section(f"{M} AI Search instances (+1 service token), limiter {limits}", compare(f"ins-{limits}", instance_config(M, limits), instance_data(M), R))

# Realistic: 50 ms of API latency, -parallelism=10, against its lower bound.
admin("/__admin/faults", {"latency_ms": 50})
d = workspace("realistic", token_config(N, "default"))
apply_s = tf(d, "apply", "-auto-approve", parallelism=10)
bound = N * 0.050 / 10
tf(d, "destroy", "-auto-approve", parallelism=10)
admin("/__admin/faults", {})
out.append(f"\n### Realistic: {N} tokens, 50 ms API latency, -parallelism=10\n\napply {apply_s:.2f} s against a lower bound of {N} × 50 ms / 10 = {bound:.2f} s: **{apply_s / bound:.2f}×**")

# Requests per operation (emulator counts), one token.
before = admin("/__admin/counts")
d = workspace("one", token_config(1, "raised"))
tf(d, "apply", "-auto-approve"); a = admin("/__admin/counts")
tf(d, "plan", "-detailed-exitcode"); p_ = admin("/__admin/counts")
tf(d, "destroy", "-auto-approve"); z = admin("/__admin/counts")
diff = lambda x, y: {k: v - x.get(k, 0) for k, v in y.items() if v - x.get(k, 0)}
out.append(f"\n### API requests per operation (one token, emulator counts)\n\n- apply: `{diff(before, a)}`\n- refresh-plan: `{diff(a, p_)}`\n- destroy: `{diff(p_, z)}`")

# Provider peak RSS during an apply of N tokens.
d = workspace("rss", token_config(N, "raised"))
rss = peak_rss_during(lambda: tf(d, "apply", "-auto-approve"))
tf(d, "destroy", "-auto-approve")
schema_s = statistics.median([tf(d, "providers", "schema", "-json") for _ in range(5)])
size = os.path.getsize(os.path.join(BIN, "terraform-provider-cfai"))
hs = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "handshake.py"), os.path.join(BIN, "terraform-provider-cfai"), "25"],
                    capture_output=True, text=True).stdout.strip()
out.append(f"\n### Process\n\n- {hs} (`python3 bench/handshake.py {os.path.relpath(os.path.join(BIN, 'terraform-provider-cfai'), ROOT)} 25`)\n"
           f"- `terraform providers schema -json`: {schema_s:.2f} s (median of 5)\n"
           f"- provider peak RSS during the apply of {N} tokens: {rss / 1024:.1f} MB\n"
           f"- stripped release binary: {size / 1e6:.1f} MB")

emu.terminate()
stamp = time.strftime("%Y-%m-%d")
text = f"<!-- suite -->\n## Benchmark suite ({stamp})\n\nCommand: `{COMMAND}` (release build, this 2-core machine, the emulator on loopback). Times are medians of {R} rounds, cfai and terraform_data alternating; the ratio is the figure.\n" + "\n".join(out) + "\n<!-- /suite -->\n"
path = args.out
doc = open(path).read() if os.path.exists(path) else ""
doc = re.sub(r"<!-- suite -->.*<!-- /suite -->\n", lambda _: text, doc, flags=re.S) if "<!-- suite -->" in doc else doc + "\n" + text
open(path, "w").write(doc)
print(text)
shutil.rmtree(work, ignore_errors=True)
