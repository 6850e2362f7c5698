from django.apps import AppConfig


class EservicesConfig(AppConfig):
    name = "portal.eservices"
    label = "eservices"
    verbose_name = "E-tjänster"

    def ready(self) -> None:
        # Every sub-package is an e-service that registers itself when imported: adding one needs
        # no change anywhere else.
        import pkgutil  # noqa: PLC0415
        from importlib import import_module  # noqa: PLC0415

        from django.core import checks  # noqa: PLC0415

        from portal import eservices  # noqa: PLC0415
        from portal.eservices.checks import check_upload_dir  # noqa: PLC0415

        checks.register(check_upload_dir)

        for module in pkgutil.iter_modules(eservices.__path__):
            if module.ispkg:
                import_module(f"{eservices.__name__}.{module.name}")
