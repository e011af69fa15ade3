"""The image registry protocol under /v2/: blobs, uploads, manifests, and the bridge to the hub API."""
