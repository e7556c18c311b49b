"""Cross-cutting HTTP that knows no domain: templating, i18n, htmx, CSRF, security headers, errors."""
