"""The OpenAPI 3 / Swagger 2 importer: read a spec (following ``$ref`` within its folder), map
operations and security schemes, merge into endpoint YAML safely."""
