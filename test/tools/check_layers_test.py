#!/usr/bin/env python3
"""ctest layers_self_test: scripts/check_layers.py can fail.

Builds scratch source trees and runs the checker on them: a tree that holds only allowed includes (and
the KNOWN_VIOLATIONS still listed) passes; a new upward include, a same-level include, an include of a
module not in the order, and an app/ include of anything but cli each fail with exit 1 and the
`file:line: lib/A includes B (...)` line; a known violation that was fixed but is still listed fails too.
With a scratch module_links.txt: an include of a library not linked, a link to a library none of whose
headers is included, and a link to a module above fail too.
Usage: check_layers_test.py CHECK_LAYERS_PY
"""
import importlib.util
import pathlib
import subprocess
import sys
import tempfile

CHECKER = pathlib.Path(sys.argv[1]).resolve()
spec = importlib.util.spec_from_file_location("check_layers", CHECKER)
check_layers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_layers)

failures = []


def write(root, rel, text):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def base_tree(root):
    """Allowed includes only, plus one file reproducing each entry still on KNOWN_VIOLATIONS."""
    write(root, "lib/util/duration.hpp", '#pragma once\n#include <string>\n#include "util/result.hpp"\n')
    write(root, "lib/scrape/snapshot.cpp", '#include "prom/text_parser.hpp"\n#include "util/redact.hpp"\n')
    write(root, "lib/kube/pod_restart.hpp", '#include "scenario/scenario.hpp"\n')
    write(root, "lib/engine/engine.hpp", '#include "scenario/scenario.hpp"\n#include "sse/sse_parser.hpp"\n')
    write(root, "lib/report/gates.cpp", '#include "gates.hpp"\n#include "engine/run_result.hpp"\n')
    write(root, "lib/cli/cli.cpp", '#include "report/gates.hpp"\n#include "kube/kubectl.hpp"\n')
    write(root, "app/main.cpp", '#include "cli/cli.hpp"\n#include <cstdio>\n')
    write(root, "lib/prom/text_parser.cpp", '#include "util/result.hpp"\n')
    write(root, "lib/sse/sse_parser.cpp", '#include "util/result.hpp"\n')
    write(root, "lib/scenario/loader.cpp", '#include "sim/sim_config.hpp"\n#include "util/duration.hpp"\n')
    write(root, "lib/sim/fleet.cpp", '#include "sim/sim_config.hpp"\n#include "util/redact.hpp"\n')
    write(root, "lib/sim/sim_config.cpp", '#include "sim/sim_config.hpp"\n#include "util/redact.hpp"\n')
    for rel, included in check_layers.KNOWN_VIOLATIONS:
        path = root / rel
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        write(root, rel, old + f'#include "{included}/known.hpp"\n')


LINKS = """llmd_util util |  | duration.cpp redact.cpp
llmd_prom prom | llmd_util | text_parser.cpp
llmd_sse sse | llmd_util | sse_parser.cpp
llmd_sim_config sim | llmd_util | sim_config.cpp
llmd_sim sim | llmd_sim_config llmd_util | fleet.cpp
llmd_scrape scrape | llmd_prom llmd_util | snapshot.cpp
llmd_scenario scenario | llmd_sim_config llmd_util | loader.cpp
llmd_kube kube | llmd_scenario | pod_restart.cpp
llmd_engine engine | llmd_scenario llmd_sse | engine.cpp
llmd_report report | llmd_engine | gates.cpp json_report.cpp
llmd_cli cli | llmd_report llmd_kube | cli.cpp
"""


def run(root):
    links = root / "module_links.txt"
    if not links.exists():
        links.write_text(LINKS, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(CHECKER), "--links", str(links), str(root)],
                          capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout


def expect(name, root, code, lines):
    got_code, out = run(root)
    if got_code != code:
        failures.append(f"{name}: exit {got_code}, expected {code}; output:\n{out}")
    for line in lines:
        if line not in out.splitlines():
            failures.append(f"{name}: no line {line!r} in:\n{out}")
    if code == 0 and out:
        failures.append(f"{name}: a clean tree printed:\n{out}")


def case(name, code, lines, mutate):
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        base_tree(root)
        mutate(root)
        expect(name, root, code, lines)


case("clean tree", 0, [], lambda root: None)
case("upward include", 1, ["lib/util/duration.hpp:4: lib/util includes report (util is below report)"],
     lambda root: write(root, "lib/util/duration.hpp",
                        (root / "lib/util/duration.hpp").read_text() + '#include "report/gates.hpp"\n'))
case("report includes cli", 1, ["lib/report/json_report.cpp:2: lib/report includes cli (report is below cli)"],
     lambda root: write(root, "lib/report/json_report.cpp", '#include <string>\n#include "cli/exit_codes.hpp"\n'))
case("same level", 1, ["lib/scenario/loader.cpp:1: lib/scenario includes kube (scenario and kube are on the same level)"],
     lambda root: write(root, "lib/scenario/loader.cpp", '#include "kube/kubectl.hpp"\n'))
case("sse includes stats", 1, ["lib/sse/sse_parser.cpp:1: lib/sse includes stats (sse and stats are on the same level)"],
     lambda root: write(root, "lib/sse/sse_parser.cpp", ' # include "stats/histogram.hpp"\n'))
case("unknown module", 1,
     ["lib/engine/x.cpp:1: lib/engine includes pipeline (pipeline is not a module in the layer order of "
      "scripts/check_layers.py)"],
     lambda root: write(root, "lib/engine/x.cpp", '#include "pipeline/stage.hpp"\n'))
case("app includes report", 1, ["app/main.cpp:3: app includes report (app may include cli only)"],
     lambda root: write(root, "app/main.cpp", (root / "app/main.cpp").read_text() + '#include "report/gates.hpp"\n'))
case("run below report", 1, ["lib/run/pipeline.cpp:1: lib/run includes report (run is below report)"],
     lambda root: write(root, "lib/run/pipeline.cpp", '#include "report/gates.hpp"\n'))
case("include without the link", 1,
     ["lib/engine/engine.hpp:3: scrape/snapshot.hpp: llmd_engine includes a header of llmd_scrape but does not link it"],
     lambda root: write(root, "lib/engine/engine.hpp",
                        (root / "lib/engine/engine.hpp").read_text() + '#include "scrape/snapshot.hpp"\n'))
case("link without an include", 1, ["lib/scenario: llmd_scenario links llmd_sim but includes none of its headers"],
     lambda root: write(root, "module_links.txt", LINKS.replace(
         "llmd_scenario scenario | llmd_sim_config", "llmd_scenario scenario | llmd_sim llmd_sim_config")))
case("upward link", 1, ["lib/scrape: llmd_scrape links llmd_kube (scrape is below kube)"],
     lambda root: write(root, "module_links.txt", LINKS.replace(
         "llmd_scrape scrape | llmd_prom", "llmd_scrape scrape | llmd_kube llmd_prom")))
for rel, included in sorted(check_layers.KNOWN_VIOLATIONS):
    case(f"stale known violation {rel}", 1,
         [f"{rel}: no longer includes {included}: take it off KNOWN_VIOLATIONS in scripts/check_layers.py"],
         lambda root, rel=rel: write(root, rel, "// fixed\n"))

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("check_layers.py: every case behaved")
