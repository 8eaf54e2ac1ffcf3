"""The operation keys of an OpenAPI path item, in the specification's order.

One constant beneath the spec reader, the Swagger 2 conversion and the operation walk, which all
tell an operation from a path item's other keys (``parameters``, ``servers``, ``$ref``) by it.
"""

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
