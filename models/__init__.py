"""The model files shipped with brian-effplast (installed as package data; see brian_effplast.config.modelfiles)."""
