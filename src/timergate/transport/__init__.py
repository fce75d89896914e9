"""What stands between the network and the GraphQL layer: the HTTP protocol's bounds on
slow and oversized requests, the bound on request bodies, and the browser origins allowed in."""
