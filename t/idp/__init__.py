"""Identity providers for the OIDC tests: a controllable mock OP
(mock_op) and a launcher for panva's oidc-provider (op)."""
