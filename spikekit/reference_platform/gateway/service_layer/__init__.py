"""The gateway's service layer: what each player request does, against small ports."""
