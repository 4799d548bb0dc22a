#!/usr/bin/env python3
"""Runs every command of README.md, as written and in order, on the built tree.

Commands come from the README's ```sh blocks and from inline `build/optic ...` spans. They run
in a scratch directory that links the repository's build/, models/, examples/ and results/, so
the files they write (results.jsonl, report.html, ...) stay out of the checkout. `optic serve`
is started in the background, must report ready, serves the commands after it and is stopped
with SIGINT at the end (a clean exit is part of the check). The two top-level scripts are not
run: scripts/quickstart.sh is setup + build + commands that follow it here, and scripts/test.sh
is the suite this test belongs to.

Exit status 0 when every command exited 0; otherwise 1, naming each failed command and the end
of its output.
"""
import argparse
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

NOT_RUN = {
    "scripts/quickstart.sh": "setup + build + the commands below, which run here one by one",
    "scripts/test.sh": "the test suite this test is part of",
}
LINKED = ("build", "models", "examples", "results", "scripts")


def readme_commands(text):
    """Yields commands in README order: lines of ```sh blocks, then inline build/optic spans."""
    commands = []
    in_block = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_block = line.strip() in ("```sh", "```bash", "```shell") if not in_block else False
            continue
        if in_block:
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command and not command.startswith("#"):
                commands.append(command)
        else:
            commands += re.findall(r"`(build/optic [^`]+)`", line)
    return commands


def http_port(argv):
    for i, a in enumerate(argv):
        if a == "--http-port" and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith("--http-port="):
            return int(a.split("=", 1)[1])
    return 8000


def wait_ready(port, proc, timeout_s):
    url = f"http://127.0.0.1:{port}/v2/health/ready"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"exited with status {proc.returncode} before it was ready"
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return None
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.5)
    return f"not ready at {url} after {timeout_s} s"


def tail(path, n=40):
    with open(path, errors="replace") as f:
        return "".join(f.readlines()[-n:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("--timeout-s", type=float, default=1200, help="limit per command")
    ap.add_argument("--ready-timeout-s", type=float, default=300, help="limit for serve to be ready")
    args = ap.parse_args()
    repo = os.path.realpath(args.repo)
    with open(os.path.join(repo, "README.md")) as f:
        commands = readme_commands(f.read())
    if not commands:
        print("README.md: no commands found", file=sys.stderr)
        return 1

    work = tempfile.mkdtemp(prefix="optic-readme-")
    for name in LINKED:
        if os.path.exists(os.path.join(repo, name)):
            os.symlink(os.path.join(repo, name), os.path.join(work, name))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPTIC_")}
    failures, servers = [], []
    print(f"README commands run in {work}")
    for n, command in enumerate(commands, 1):
        argv = shlex.split(command)
        if argv[0] in NOT_RUN:
            print(f"[{n:2}] not run   {command}  ({NOT_RUN[argv[0]]})")
            continue
        log = os.path.join(work, f"cmd{n:02}.log")
        start = time.monotonic()
        with open(log, "w") as out:
            if len(argv) > 1 and argv[1] == "serve":
                proc = subprocess.Popen(["bash", "-c", command], cwd=work, env=env, stdout=out,
                                        stderr=subprocess.STDOUT, start_new_session=True)
                problem = wait_ready(http_port(argv), proc, args.ready_timeout_s)
                servers.append((n, command, proc, log))
                status = "ready" if problem is None else "FAILED"
                if problem:
                    failures.append((n, command, f"serve {problem}", log))
            else:
                try:
                    rc = subprocess.run(["bash", "-c", command], cwd=work, env=env, stdout=out,
                                        stderr=subprocess.STDOUT, timeout=args.timeout_s).returncode
                except subprocess.TimeoutExpired:
                    rc = f"timeout after {args.timeout_s:.0f} s"
                status = "ok" if rc == 0 else "FAILED"
                if rc != 0:
                    failures.append((n, command, f"exit status {rc}", log))
        print(f"[{n:2}] {status:<9} {command}  ({time.monotonic() - start:.1f} s)", flush=True)

    for n, command, proc, log in servers:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                failures.append((n, command, "did not exit within 60 s of SIGINT", log))
                continue
        if proc.returncode != 0:
            failures.append((n, command, f"exit status {proc.returncode} after SIGINT", log))

    for n, command, why, log in failures:
        print(f"\nFAILED [{n}] {command}: {why}\n--- last lines of {log} ---\n{tail(log)}")
    print(f"\n{len(commands) - len(failures)} of {len(commands)} README commands passed"
          if failures else f"\nall README commands passed ({work})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
