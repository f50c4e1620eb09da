"""Reads the grader's reports with the tools their consumers use.

JUnit XML goes through `junitparser` (the parser CI systems' JUnit plug-ins are modelled
on); Gradescope's results.json is checked against the fields its autograder
specification documents. Usage: check_reports.py DIR EXPECTED_SCORE MAX_SCORE TESTS
"""

import json
import sys

from junitparser import Failure, JUnitXml

report_dir, expected_score, max_score, tests = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])

xml = JUnitXml.fromfile(f"{report_dir}/junit.xml")
cases = [case for suite in xml for case in suite]
assert len(cases) == tests, f"JUnit: {len(cases)} testcases, expected {tests}"
failed = [case for case in cases if any(isinstance(r, Failure) for r in case.result)]
for case in failed:
    failure = next(r for r in case.result if isinstance(r, Failure))
    assert failure.message, f"JUnit: {case.name} fails without a message"
    assert "LAB_SEED=" in (failure.text or ""), f"JUnit: {case.name} has no replay command"
print(f"junitparser: {len(cases)} testcases, {len(failed)} failing, each with a message and a replay command")

with open(f"{report_dir}/results.json") as f:
    results = json.load(f)
assert isinstance(results.get("score"), (int, float)), "Gradescope: no numeric score"
assert results["score"] == expected_score, f"Gradescope: score {results['score']}, expected {expected_score}"
assert len(results["tests"]) == tests, f"Gradescope: {len(results['tests'])} tests, expected {tests}"
total = 0
for test in results["tests"]:
    for field, kind in [("name", str), ("score", (int, float)), ("max_score", (int, float)), ("output", str)]:
        assert isinstance(test.get(field), kind), f"Gradescope: test {test.get('name')} lacks {field}"
    assert test.get("visibility", "visible") in ("hidden", "after_due_date", "after_published", "visible")
    total += test["max_score"]
assert total == max_score, f"Gradescope: max scores add up to {total}, expected {max_score}"
print(f"Gradescope results.json: score {results['score']} of {total}, {len(results['tests'])} tests with the documented fields")
