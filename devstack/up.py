"""`make up`: the whole local stack in the foreground until Ctrl-C (development only)."""

from __future__ import annotations

import argparse
import signal
import sys
import time

from devstack import demo_data
from devstack.processes import StackError
from devstack.stack import JWT_SECRET, REPO, WEBHOOK_SECRET, Ports, Stack, StackConfig


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.up", description=__doc__)
    parser.add_argument("--rows", type=int, default=500_000, help="demo transactions to load")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _interrupt)
    root = REPO / ".stack"
    try:
        with Stack(StackConfig(root=root, ports=Ports.from_env(), rows=args.rows)) as stack:
            # TRANSACTIONS is scoped by the merchantId claim: the user is merchant 1's.
            user = stack.token("demo-user", "demo.user@example.com", claims={"merchantId": 1})
            admin = stack.token(
                "admin",
                "admin@example.com",
                roles=("SUPER_ADMIN",),
                claims={"merchantId": list(demo_data.MERCHANTS)},
            )
            print(
                f"""
streamexport is up (Ctrl-C stops everything)

  API            {stack.api_url}/api/v1/exports   (OpenAPI: {stack.api_url}/api/v1/openapi.json)
  user token     {user}
  admin token    {admin}
  JWT secret     {JWT_SECRET}   (more tokens: TOKEN=$(make -s token SUB=alice))
  mail folder    {stack.mail_dir}
  webhooks       {stack.webhook_url}   (the allow-listed receiver; verified deliveries in
                 {stack.webhook_dir}/deliveries.jsonl, signing secret {WEBHOOK_SECRET})
  logs           {root / "logs"}
  kubectl        kubectl --server {stack.kube_url} get exports

  curl -s -X POST {stack.api_url}/api/v1/exports -H "Authorization: Bearer $TOKEN" \\
       -H 'Content-Type: application/json' \\
       -d '{{"resourceType":"TRANSACTIONS","format":"csv","filters":{{"status":"SETTLED"}},
            "notify":{{"webhookUrl":"{stack.webhook_url}"}}}}'
""",
                flush=True,
            )
            while True:
                stack.supervisor.heal()  # a crashed part restarts, as its pod would
                time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nstopped.")
    except StackError as exc:
        print(f"\nstack failed: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
