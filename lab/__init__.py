"""The lab: an emulated Windows estate driven over real WinRM (see lab/DESIGN.md)."""
