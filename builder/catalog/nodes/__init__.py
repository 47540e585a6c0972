"""One module per node type, each defining `NODE_TYPE` (a `NodeType`). `builder.catalog` finds them all."""
