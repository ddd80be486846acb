"""Documentation tooling: MkDocs hooks that generate the site's tables and figures from the package."""
