"""The e-service catalogue (``registry``) and one sub-package per e-service (R1, R4)."""
