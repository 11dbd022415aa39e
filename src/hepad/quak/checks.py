"""Config checks of the QUAK section that join several keys (the schema checks each key alone)."""

from __future__ import annotations

from hepad.config import ConfigError

# The signal of the LHCO R&D data (W' -> XY with masses 3500, 500, 100 GeV), a held-out signal of QUAK.
LHCO_SIGNAL = "wprime_3500_500_100"


def check_quak_config(config: dict) -> None:
    """Raise ``ConfigError`` naming the keys when the QUAK settings contradict each other."""
    quak = config["quak"]
    both = sorted(set(quak["priors"]) & set(quak["signals"]))
    if both:
        raise ConfigError(f"config error: quak.priors and quak.signals share {both}; a held-out signal must "
                          "differ from every signal prior (remove it from one of the lists)")
    if quak["plot_prior"] and quak["plot_prior"] not in quak["priors"]:
        raise ConfigError(f"config error: quak.plot_prior = {quak['plot_prior']!r} is not one of quak.priors "
                          f"{quak['priors']} (or set it to '' for the first prior)")
    if config.get("dataset") == "lhco" and LHCO_SIGNAL in quak["priors"]:
        raise ConfigError(f"config error: quak.priors holds {LHCO_SIGNAL}, the held-out signal of the LHCO R&D data "
                          "(dataset: lhco); a signal prior must differ from it (remove it from quak.priors)")
    digits = quak["digits"]
    classes = digits["background"] + digits["priors"] + digits["anomalies"]
    if len(set(classes)) != len(classes):
        raise ConfigError("config error: quak.digits.background, .priors and .anomalies must not share digit "
                          f"classes (got {digits['background']}, {digits['priors']}, {digits['anomalies']})")
