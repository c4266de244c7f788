"""TributaryTap: the Tap class every tap of ours derives from.

- Settings Meltano hands over as text ("300", '["people"]') are converted before the SDK
  validates them (settings.typed_settings), or named in one line with their fix.
- The SDK's schema errors get the tap's hint for the setting they name (`setting_hints`), and
  each tap adds the checks a schema cannot say (`check_settings`). Run as an inherited extractor
  (tap-x--acme: another business), every hint names that extractor's variables (TAP_X__ACME_…).
- `main()`, the console script: every failure we can name is one line, no traceback, with the
  tap's exit code for it (`exit_codes`, e.g. GA4's 75 for a spent quota).

All through public SDK hooks: singer-sdk 0.54.9 has no hook to validate config, so the config
dict is converted before Tap.__init__ (which validates what it is given) and the extra checks run
after it. Values the SDK adds itself (`--config ENV`, config file paths, both unused by Meltano)
are not converted. Needs singer_sdk.
"""
from __future__ import annotations

import sys
import typing as t
from collections.abc import Mapping

from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError

from tributary_tap_support.settings import as_the_running_extractor, typed_settings
from tributary_tap_support.writer import BufferedMsgSpecWriter

# Each tap lists it in its config_jsonschema (sdk_private.py uses it).
SDK_FAST_PATH = th.Property(
    "sdk_fast_path", th.BooleanType, default=True,
    description="Write records through our shortcuts around the Singer SDK's per-record steps (same "
                "records, faster). false = the SDK's stock path, e.g. right after an SDK upgrade.")


class TributaryTap(Tap):
    """A Singer SDK tap with typed settings, hinted config errors and one-line failures."""

    message_writer_class = BufferedMsgSpecWriter

    #: Examples used in the fix of a setting given as unusable text ({"property_ids": '["412345678"]'}).
    setting_examples: t.ClassVar[dict[str, str]] = {}
    #: Appended to the SDK's schema errors that name the setting: {"api_key": "set TAP_X_API_KEY (…)"}.
    setting_hints: t.ClassVar[dict[str, str]] = {}
    #: Exit codes other than 1, by error class (subclasses included).
    exit_codes: t.ClassVar[dict[type[BaseException], int]] = {}
    #: Said after a request that still failed when its retries ran out.
    gave_up_hint: t.ClassVar[str] = "Fix: run again later."

    def __init__(self, *, config: t.Any = None, validate_config: bool = True, **kwargs: t.Any) -> None:  # noqa: ANN401
        self.backoff_log: list[dict] = []   # every retry of the run (the streams append; tests read it)
        if isinstance(config, Mapping):
            config = dict(config)   # converted in our copy, never in the caller's dict
            text_errors = typed_settings(config, self.config_jsonschema, self.name, self.setting_examples)
            self.report_config_errors(text_errors, validate_config)
        try:
            super().__init__(config=config, validate_config=validate_config, **kwargs)
        except ConfigValidationError as exc:
            extra = self.check_settings(config) if isinstance(config, Mapping) else []
            errors = [as_the_running_extractor(e, self.name) for e in [self.hinted(e) for e in exc.errors] + extra]
            raise ConfigValidationError(str(exc), errors=errors, schema=exc.schema) from None
        self.report_config_errors(self.check_settings(self.config), validate_config)

    @classmethod
    def check_settings(cls, config: Mapping[str, t.Any]) -> list[str]:  # noqa: ARG003
        """What is wrong with `config` beyond its schema, one line each (a tap overrides it)."""
        return []

    @classmethod
    def hinted(cls, error: str) -> str:
        """A schema error, with the tap's hint for the setting it names."""
        for setting, hint in cls.setting_hints.items():
            if f"'{setting}'" in error:
                return f"{error}: {hint}"
        return error

    def report_config_errors(self, errors: list[str], validate_config: bool) -> None:  # noqa: FBT001
        if not errors:
            return
        errors = [as_the_running_extractor(e, self.name) for e in errors]
        if validate_config:
            raise ConfigValidationError("Config validation failed", errors=errors, schema=self.config_jsonschema)
        self.logger.warning("Config validation failed: %s", "; ".join(errors))

    @property
    def sdk_fast_path(self) -> bool:
        """False when the user asked for the SDK's stock per-record path (setting sdk_fast_path)."""
        return bool(self.config.get("sdk_fast_path", True))

    # -- the console script ---------------------------------------------------------------------------
    @classmethod
    def main(cls) -> None:
        """The tap's command line (the SDK's), with every failure we can name said in one line."""
        try:
            cls.cli()
        except Exception as exc:
            line = cls.failure_line(exc)
            if line is None:
                raise   # not ours to word: the SDK's handler logs it with its traceback
            cls.logger.error("%s", as_the_running_extractor(line, cls.name))
            sys.exit(cls.exit_code(exc))

    @classmethod
    def failure_line(cls, exc: BaseException) -> str | None:
        if isinstance(exc, ConfigValidationError):
            return f"Invalid {cls.name} config: " + "; ".join(exc.errors)
        if isinstance(exc, RetriableAPIError):   # still failing when the retries ran out
            return f"{exc} (gave up after retrying). {cls.gave_up_hint}"
        if isinstance(exc, (FatalAPIError, *cls.exit_codes)):
            return str(exc)
        return None

    @classmethod
    def exit_code(cls, exc: BaseException) -> int:
        return next((code for kind, code in cls.exit_codes.items() if isinstance(exc, kind)), 1)
