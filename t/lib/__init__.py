"""Test support for the airflow_auth integration suites: throwaway Redis,
nginx and upstream servers on free loopback ports, a raw HTTP client, and an
independent Python implementation of the session record format."""
