"""What ships with dropbell but is not the service: the benchmarks (``dropbell bench``),
the demo data (``dropbell demo``) and the test hooks (mounted only with
DROPBELL_TEST_HOOKS). The running service imports none of it: the commands import their
tool when they run, and ``create_app`` imports the test hooks only when they are on."""
