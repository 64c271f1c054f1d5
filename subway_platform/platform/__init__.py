"""The platform on one machine: embedded services (PostgreSQL, S3 API, Sail) and the
`subway-platform` command (`dev`, `demo`, `elt-log sync`, `dashboard`)."""
