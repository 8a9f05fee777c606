"""`readiness serve` and `readiness digest` never log or print a secret of a notification URL.

Slack tokens, a Teams URL apprise cannot read, a JSON webhook's query and mail passwords:
the digests fail to go out (nothing outside loopback is reachable), the failures are
logged with their destination, masked by apprise's privacy mode, and with apprise's own
complaints; none of it may carry a token or a password.
"""

from __future__ import annotations

import json
import sys

from tests.ops.support import REPO, Proc, env_for_tests, wait_for
from tests.readiness.helpers import write_yaml

OFFLINE = [sys.executable, "-m", "tests.ops._serve_offline"]
URLS = {
    "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ": ["T1JJ3T3L2", "A1BRTD4JD", "TIiajkdnlazkcOXrIdevi7FQ"],
    "msteams://peakteam/9a1e0c2b-teamtoken@77b4f0d1-tenant/IncomingWebhook/c0ffee00webhookkey":
        ["9a1e0c2b-teamtoken", "77b4f0d1-tenant", "c0ffee00webhookkey"],
    "json://hooks.example.com/path?jsonsecret42": ["jsonsecret42"],
    "mailtos://user:Pa55word-host@host": ["Pa55word-host"],
    "mailtos://peak:Pa55word-mail@mail.example.com": ["Pa55word-mail"],
}
SECRETS = [secret for secrets in URLS.values() for secret in secrets]


def config(tmp_path, **notify):
    return write_yaml(tmp_path / "serve.yaml", {"notify": {"urls": list(URLS), "reminder_schedule": None,
                                                           "email_domain": "corp.example", **notify}})


def leaked(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def test_serve_logs_failed_digests_without_any_secret_of_their_urls(sqlite_org, tmp_path):
    cfg = config(tmp_path, digest_schedule="* * * * * *")  # every second
    proc = Proc([*OFFLINE, "serve", "--db", sqlite_org[0], "--config", str(cfg), "--host", "127.0.0.1",
                 "--port", "0", "--schedule", "0 0 1 1 *", "--no-catch-up", "--log-level", "debug"],
                env=env_for_tests(), cwd=REPO).start()
    try:
        failures = len(URLS) * 4  # a digest per team and domain (two each) to every URL
        wait_for(lambda: sum(" failed: " in line for line in proc.stderr_lines) >= failures or proc.popen.poll(),
                 120, "the first digests to fail")
    finally:
        proc.stop()
    output = proc.stderr + proc.stdout
    assert sum(" failed: " in line for line in proc.stderr_lines) >= failures, output[-3000:]
    assert leaked(output) == []
    for shown in ("slack://T...2/A...D/T...Q/", "msteams://****", "json://hooks.example.com/path",
                  "mailtos://****", "mailtos://peak:****@mail.example.com"):
        assert shown in output  # the destinations are named, masked


def test_digest_command_prints_deliveries_without_any_secret(sqlite_org, tmp_path):
    cfg = config(tmp_path)
    done = Proc([*OFFLINE, "digest", "--send", "--format", "json", "--db", sqlite_org[0],
                 "--config", str(cfg)], env=env_for_tests(), cwd=REPO).start()
    assert done.wait(180) == 1  # failed deliveries
    wait_for(lambda: done.popen.stdout.closed and done.popen.stderr.closed, 10, "the output")
    deliveries = json.loads(done.stdout)["deliveries"]
    assert len(deliveries) == 4 * len(URLS) and {d["status"] for d in deliveries} == {"failed"}
    assert leaked(done.stdout + done.stderr) == []
    assert all(d["error"] for d in deliveries)
