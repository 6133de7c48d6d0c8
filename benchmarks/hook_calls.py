"""The cost of the one hook-call path: ``kam_account_duties`` over every account of an org,
through :func:`kamcore.duties.account_duties` (pluggy's ``pm.hook`` with kamcore's guard,
result check and watchdog) against a baseline measured in the same run: calling each
implementation's function directly in a plain loop (what 0.1's hand-written loops did, with no
isolation or checks).

    python benchmarks/hook_calls.py [--accounts 20000] [--plugins 6]
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--plugins", type=int, default=6)
    args = parser.parse_args()

    from kamcore import Duty, PluginError, hookimpl
    from kamcore.duties import account_duties
    from kamcore.testing import OrgBuilder, make_plugin_manager

    def plugin(n: int) -> object:
        duties = [Duty(id=f"p{n}.d", title=f"Duty {n}", source=f"p{n}")]

        class P:
            @hookimpl
            def kam_account_duties(self, account: object, org: object) -> list[Duty]:
                return duties

        return P()

    pm = make_plugin_manager()
    for n in range(args.plugins):
        pm.register(plugin(n), name=f"p{n}")
    builder = OrgBuilder(pm=pm).person("P")
    for i in range(args.accounts):
        builder.account(f"A{i}", manager="P")
    org = builder.build()
    accounts = list(org.accounts.values())
    impls = pm.hook.kam_account_duties.get_hookimpls()
    # the guard wraps each function; the baseline calls the plugins' own functions
    originals = [impl.plugin.kam_account_duties for impl in impls]

    start = time.perf_counter()
    for account in accounts:
        for function in originals:
            function(account=account, org=org)
    baseline = time.perf_counter() - start

    problems: list[PluginError] = []
    start = time.perf_counter()
    for account in accounts:
        account_duties(org, pm, account, problems)
    guarded = time.perf_counter() - start
    calls = len(accounts) * len(impls)
    print(f"{len(accounts):,} accounts x {len(impls)} implementations = {calls:,} calls")
    print(f"baseline (direct calls): {baseline:.3f} s ({baseline / calls * 1e6:.2f} us/call)")
    print(f"call_hook (guarded):     {guarded:.3f} s ({guarded / calls * 1e6:.2f} us/call), "
          f"{guarded / baseline:.1f}x baseline")


if __name__ == "__main__":
    main()
