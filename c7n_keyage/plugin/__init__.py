"""How the plugin reaches c7n: the start-up hook and the registration on c7n's registries.

Imported by ``c7n_keyage.pth`` at every Python start-up in the environment: this package
and ``hook.py`` use the standard library only, and register nothing until c7n imports the
modules the plugin extends. The Lambda entry point is ``c7n_keyage.handler`` (its dotted
path is in users' policies, so it stays at the package's top).
"""
