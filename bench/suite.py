#!/usr/bin/env python3
"""On-demand benchmark suite (not CI): the cfai provider against Terraform's
built-in `terraform_data` carrying the same input, in one run, alternating,
median of ROUNDS. Writes the figures, with the command, to BENCHMARKS.md
between the "suite" markers.

    cargo build --release --example reference-provider && cargo build --release && python3 bench/suite.py [--tokens 200] [--instances 50] [--rounds 3]

(The example first: building it turns on the test-only crypto features, so
the shipped binaries are built after it, without them.)

Besides terraform_data, each table times the reference provider
(bench/reference_provider.rs): cfai's schemas, no work at all. The three
together split a ratio into what any external provider with these schemas
costs Terraform and what cfai adds to that.

Needs terraform (TF_ACC_TERRAFORM_PATH or PATH) and openssl (handshake).
"""
import argparse, json, os, re, resource, shutil, statistics, subprocess, sys, tempfile, threading, time, urllib.request

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
COMMAND = f"cargo build --release --example reference-provider && cargo build --release && python3 bench/suite.py --tokens {args.tokens} --instances {args.instances} --rounds {args.rounds}"

work = tempfile.mkdtemp(prefix="cfai-bench-")
emulators = []

def emulator():
    """A fresh emulator: a new base URL is a new API to the provider, so the
    5-minute budget its limiter shares between processes (a journal per
    token and API) starts empty, as for a user's first apply of the day."""
    emu = subprocess.Popen([os.path.join(BIN, "cfai-emulator"), "--port", "0", "--token", TOKEN, "--account-id", ACCOUNT],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    emulators.append(emu)
    return emu.stdout.readline().strip()

def admin(base, path, body=None):
    req = urllib.request.Request(base.replace("/client/v4", "") + path, data=None if body is None else json.dumps(body).encode(),
                                 headers={"content-type": "application/json"}, method="GET" if body is None else "POST")
    return json.loads(urllib.request.urlopen(req).read() or b"{}")

def cli_config(plugin_dir):
    path = os.path.join(work, f"cli-{len(os.listdir(work))}.tfrc")
    open(path, "w").write('provider_installation {\n  dev_overrides { "seed/cfai" = "%s" }\n  direct {}\n}\n' % plugin_dir)
    return dict(os.environ, TF_CLI_CONFIG_FILE=path, TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")

ENV = cli_config(BIN)

# The same binary behind a wrapper that appends its CPU time (user+sys, s)
# to a file: the profile pass splits a run's CPU between Terraform and us.
WRAPPED = os.path.join(work, "wrapped")
os.makedirs(WRAPPED)
CPU_LOG = os.path.join(work, "provider-cpu.log")
with open(os.path.join(WRAPPED, "terraform-provider-cfai"), "w") as f:
    f.write(f'#!/bin/sh\nexec /usr/bin/time -a -o {CPU_LOG} -f "%U %S" {os.path.join(BIN, "terraform-provider-cfai")} "$@"\n')
os.chmod(os.path.join(WRAPPED, "terraform-provider-cfai"), 0o755)
ENV_WRAPPED = cli_config(WRAPPED)

REFERENCE = os.path.join(work, "reference")
os.makedirs(REFERENCE)
os.symlink(os.path.join(BIN, "examples", "reference-provider"), os.path.join(REFERENCE, "terraform-provider-cfai"))
ENV_REFERENCE = cli_config(REFERENCE)
NO_API = "http://127.0.0.1:9/client/v4"  # the reference never calls it

def provider(base, limits):
    extra = "  rate_limit_per_second = 10000\n  rate_limit_per_5_minutes = 1000000\n" if limits == "raised" else ""
    return ('terraform {\n  required_providers {\n    cfai = { source = "seed/cfai" }\n  }\n}\n'
            f'provider "cfai" {{\n  api_token  = "{TOKEN}"\n  account_id = "{ACCOUNT}"\n  base_url   = "{base}"\n{extra}}}\n')

def token_config(n, limits, base):
    body = provider(base, limits)
    for i in range(n):
        body += (f'resource "cfai_account_api_token" "t{i}" {{\n  name = "bench-{i}"\n'
                 f'  policies = [{{ permission_groups = ["Workers R2 Storage Read"], resources = {{ "com.cloudflare.api.account.{ACCOUNT}" = "*" }} }}]\n}}\n')
    return body

def token_data(n):
    return "".join(f'resource "terraform_data" "t{i}" {{\n  input = {{ name = "bench-{i}", policies = [{{ permission_groups = ["Workers R2 Storage Read"], resources = {{ "com.cloudflare.api.account.{ACCOUNT}" = "*" }} }}] }}\n}}\n' for i in range(n))

def instance_config(n, limits, base):
    body = provider(base, limits) + 'resource "cfai_ai_search_service_token" "s" {\n  name = "bench"\n}\n'
    for i in range(n):
        body += f'resource "cfai_ai_search_instance" "i{i}" {{\n  id = "bench-{i}"\n  type = "r2"\n  source = "bucket-{i}"\n  token_id = cfai_ai_search_service_token.s.id\n}}\n'
    return body

def instance_data(n):
    return 'resource "terraform_data" "s" {\n  input = { name = "bench" }\n}\n' + "".join(
        f'resource "terraform_data" "i{i}" {{\n  input = {{ id = "bench-{i}", type = "r2", source = "bucket-{i}", token_id = terraform_data.s.id }}\n}}\n' for i in range(n))

def tf(dirname, *cmd, parallelism=None, env=None):
    extra = [f"-parallelism={parallelism}"] if parallelism else []
    start = time.perf_counter()
    r = subprocess.run([TF, cmd[0], *extra, *cmd[1:]], cwd=dirname, env=env or ENV, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if r.returncode not in (0,):
        sys.exit(f"terraform {cmd} failed in {dirname}:\n{r.stdout}\n{r.stderr}")
    return elapsed

def cpu_of(fn):
    """(CPU s of terraform and its plugins, CPU s of our provider processes) while fn runs."""
    open(CPU_LOG, "w").close()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    fn()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    ours = sum(float(u) + float(s_) for u, s_ in (line.split() for line in open(CPU_LOG) if line.strip()))
    return total, ours

def workspace(name, config):
    d = os.path.join(work, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    open(os.path.join(d, "main.tf"), "w").write(config)
    subprocess.run([TF, "init", "-input=false"], cwd=d, env=ENV, capture_output=True)
    return d

OPS = (("apply", ("apply", "-auto-approve")), ("refresh-plan", ("plan", "-detailed-exitcode")), ("destroy", ("destroy", "-auto-approve")))

def compare(label, cfai_config, data_config, rounds):
    """apply, refresh-plan, destroy of terraform_data, the reference provider
    and cfai, in rotating order, each cfai round against a fresh emulator;
    medians and ratios."""
    kinds = ["data", "reference", "cfai"]
    times = {op: {k: [] for k in kinds} for op, _ in OPS}
    for r in range(rounds):
        for kind in kinds[r % 3:] + kinds[:r % 3]:
            config = {"cfai": lambda: cfai_config(emulator()), "reference": lambda: cfai_config(NO_API), "data": lambda: data_config}[kind]()
            d = workspace(f"{label}-{kind}", config)
            env = ENV_REFERENCE if kind == "reference" else ENV
            for op, cmd in OPS:
                times[op][kind].append(tf(d, *cmd, env=env))
    rows = []
    for op, t in times.items():
        c, ref, d = (statistics.median(t[k]) for k in ("cfai", "reference", "data"))
        rows.append((op, c, ref, d))
    return rows

def profile(label, cfai_config, data_config):
    """One more round of each, untimed: where the CPU goes."""
    rows = []
    dc = workspace(f"{label}-cfai-profile", cfai_config(emulator()))
    dd = workspace(f"{label}-data-profile", data_config)
    for op, cmd in OPS:
        total, ours = cpu_of(lambda: tf(dc, *cmd, env=ENV_WRAPPED))
        data_total, _ = cpu_of(lambda: tf(dd, *cmd))
        rows.append((op, total - ours, ours, data_total))
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
    out.append(f"\n### {title}\n\n| operation | cfai (s) | reference (s) | terraform_data (s) | cfai / terraform_data | reference / terraform_data | cfai / reference |\n|---|---|---|---|---|---|---|")
    for op, c, ref, d in rows:
        out.append(f"| {op} | {c:.2f} | {ref:.2f} | {d:.2f} | **{c / d:.2f}×** | {ref / d:.2f}× | {c / ref:.2f}× |")

def profile_section(title, rows):
    out.append(f"\n{title}: CPU seconds of one untimed run each (`getrusage` of terraform and its children; the provider's own from `/usr/bin/time` around each plugin start)\n\n"
               "| operation | Terraform, driving cfai | cfai provider processes | Terraform, with terraform_data |\n|---|---|---|---|")
    for op, tf_cpu, ours, data_cpu in rows:
        out.append(f"| {op} | {tf_cpu:.2f} | {ours:.2f} | {data_cpu:.2f} |")

N, M, R = args.tokens, args.instances, args.rounds
print(f"work dir {work}", flush=True)
for limits in ("raised", "default"):
    print(f"tokens, limiter {limits}…", flush=True)
    section(f"{N} account tokens, limiter {limits}", compare(f"tok-{limits}", lambda b: token_config(N, limits, b), token_data(N), R))
    if limits == "raised":
        profile_section(f"Where the time goes ({N} tokens, limiter raised)", profile("tok", lambda b: token_config(N, limits, b), token_data(N)))
    print(f"instances, limiter {limits}…", flush=True)
    section(f"{M} AI Search instances (+1 service token), limiter {limits}", compare(f"ins-{limits}", lambda b: instance_config(M, limits, b), instance_data(M), R))
    if limits == "raised":
        profile_section(f"Where the time goes ({M} instances, limiter raised)", profile("ins", lambda b: instance_config(M, limits, b), instance_data(M)))

# Realistic: 50 ms of API latency, -parallelism=10, against its lower bound,
# N x 50 ms / 10 (the API calls alone, perfectly overlapped). The apply is
# also timed in its two halves (plan -out, then apply of that plan), and
# terraform_data's apply at the same parallelism is Terraform's own share.
print("realistic…", flush=True)
bound = N * 0.050 / 10
data_d = workspace("realistic-data", token_data(N))
data_apply = tf(data_d, "apply", "-auto-approve", parallelism=10)
out.append(f"\n### Realistic: {N} tokens, 50 ms API latency, -parallelism=10\n\n"
           f"Lower bound: {N} × 50 ms / 10 = {bound:.2f} s. terraform_data's apply of the same {N} inputs at -parallelism=10 takes {data_apply:.2f} s.\n\n"
           "| limiter | apply (s) | ratio to bound | plan -out (s) | apply of the plan (s) | ratio of the latter to bound |\n|---|---|---|---|---|---|")
for limits in ("default", "raised"):
    base = emulator()
    admin(base, "/__admin/faults", {"latency_ms": 50})
    d = workspace(f"realistic-{limits}", token_config(N, limits, base))
    apply_s = tf(d, "apply", "-auto-approve", parallelism=10)
    tf(d, "destroy", "-auto-approve", parallelism=10)
    base = emulator()  # a fresh budget for the split run
    admin(base, "/__admin/faults", {"latency_ms": 50})
    d = workspace(f"realistic-split-{limits}", token_config(N, limits, base))
    plan_s = tf(d, "plan", "-out=tfplan", parallelism=10)
    apply_plan_s = tf(d, "apply", "tfplan", parallelism=10)
    tf(d, "destroy", "-auto-approve", parallelism=10)
    label = "default (100 requests/s)" if limits == "default" else "raised"
    out.append(f"| {label} | {apply_s:.2f} | **{apply_s / bound:.2f}×** | {plan_s:.2f} | {apply_plan_s:.2f} | {apply_plan_s / bound:.2f}× |")

# Requests per operation (emulator counts), one token.
base = emulator()
before = admin(base, "/__admin/counts")
d = workspace("one", token_config(1, "raised", base))
tf(d, "apply", "-auto-approve"); a = admin(base, "/__admin/counts")
tf(d, "plan", "-detailed-exitcode"); p_ = admin(base, "/__admin/counts")
tf(d, "destroy", "-auto-approve"); z = admin(base, "/__admin/counts")
diff = lambda x, y: {k: v - x.get(k, 0) for k, v in y.items() if v - x.get(k, 0)}
out.append(f"\n### API requests per operation (one token, emulator counts)\n\n- apply: `{diff(before, a)}`\n- refresh-plan: `{diff(a, p_)}`\n- destroy: `{diff(p_, z)}`")

# Provider peak RSS during an apply of N tokens.
d = workspace("rss", token_config(N, "raised", emulator()))
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

for emu in emulators:
    emu.terminate()
stamp = time.strftime("%Y-%m-%d")
text = (f"<!-- suite -->\n## Benchmark suite ({stamp})\n\nCommand: `{COMMAND}` (release build, this 2-core machine, the emulator on loopback). "
        f"Times are medians of {R} rounds, the three kinds in rotating order; the ratios are the figures. "
        "*reference* is bench/reference_provider.rs: cfai's schemas and no work (no API, no name resolution; unknowns become 32-character placeholders, so its state is about the size of cfai's), "
        "so reference / terraform_data is what any external provider with these schemas costs Terraform, and cfai / reference is what cfai adds. "
        "Each cfai round runs against a fresh emulator (a fresh 5-minute budget).\n") + "\n".join(out) + "\n<!-- /suite -->\n"
path = args.out
doc = open(path).read() if os.path.exists(path) else ""
doc = re.sub(r"<!-- suite -->.*<!-- /suite -->\n", lambda _: text, doc, flags=re.S) if "<!-- suite -->" in doc else doc + "\n" + text
open(path, "w").write(doc)
print(text)
shutil.rmtree(work, ignore_errors=True)
