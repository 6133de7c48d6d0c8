"""kamcore's test fixtures: kam_pm, kam_cli, org_builder, and a clean KAM_* environment."""

pytest_plugins = ["kamcore.testing"]
