"""The parametrised detector response on particles whose response is known."""

import numpy as np
import pytest

from hepad.events.detector import ECAL, HCAL, TRACK, Calorimeter, Detector, Tracker, check_detector

PDG = {"pi+": 211, "gamma": 22, "e-": 11, "mu-": 13, "n": 2112, "nu_e": 12, "K_L": 130}
CHARGE = {211: 1.0, 22: 0.0, 11: -1.0, 13: -1.0, 2112: 0.0, 12: 0.0, 130: 0.0}


def particles(pt, eta, phi, names, event=None):
    """Flat particle arrays (offsets, px, py, pz, e, pid, charge) of massless particles."""
    pt, eta, phi = (np.atleast_1d(np.asarray(a, dtype=float)) for a in (pt, eta, phi))
    pid = np.array([PDG[n] for n in np.broadcast_to(names, pt.shape)], dtype=np.int32)
    event = np.zeros(len(pt), dtype=int) if event is None else np.asarray(event)
    order = np.argsort(event, kind="stable")
    counts = np.bincount(event, minlength=event.max() + 1)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    px, py, pz, e = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)
    charge = np.array([CHARGE[p] for p in pid])
    return offsets, px[order], py[order], pz[order], e[order], pid[order], charge[order]


def respond(det, *args, seed=1, **kwargs):
    return det.respond(*particles(*args, **kwargs), rng=np.random.default_rng(seed))


PERFECT = Detector(
    tracker=Tracker(efficiency=1.0, resolution_const=0.0, resolution_slope=0.0),
    ecal=Calorimeter(eta_max=3.0, cell_eta=0.0174, cell_phi=0.0174, stochastic=0, constant=0, noise=0, threshold=0.5,
                     significance_min=0, smear_position=False),
    hcal=Calorimeter(eta_max=5.0, cell_eta=0.087, cell_phi=0.087, stochastic=0, constant=0, noise=0, threshold=1.0,
                     significance_min=0, smear_position=False),
)


def test_channels_by_particle_type_and_acceptance():
    names = ["pi+", "pi+", "gamma", "gamma", "gamma", "n", "mu-", "mu-", "e-", "e-", "nu_e"]
    eta = [0.5, 3.5, 0.0, 4.0, 5.5, -1.0, 1.0, 3.5, 2.0, 2.8, 0.0]
    phi = np.linspace(-3, 3, len(names))  # far apart: one cell each
    obj = respond(PERFECT, np.full(len(names), 50.0), eta, phi, names)
    got = sorted(zip(obj.channel.tolist(), np.round(obj.eta, 1).tolist()))
    expected = sorted([
        (TRACK, 0.5),  # pion in the tracker
        (HCAL, 3.5),  # pion beyond the tracker: HCAL
        (ECAL, 0.0),  # photon
        (HCAL, 4.0),  # photon beyond the ECAL: forward HCAL
        # photon at 5.5: outside everything
        (HCAL, -1.0),  # neutron
        (TRACK, 1.0),  # muon: a track only; the one at 3.5 leaves nothing
        (TRACK, 2.0),  # electron with a track
        (ECAL, 2.8),  # electron beyond the tracker: ECAL
        # neutrino: nothing
    ])
    assert [c for c, _ in got] == [c for c, _ in expected]
    assert np.allclose([e for _, e in got], [e for _, e in expected], atol=0.05)
    assert set(obj.charge[obj.channel == TRACK].tolist()) == {1, -1}
    assert (obj.charge[obj.channel != TRACK] == 0).all()


def test_track_efficiency_and_pt_threshold():
    det = Detector(tracker=Tracker(efficiency=0.8, pt_min=1.0))
    n = 20000
    rng = np.random.default_rng(0)
    obj = respond(det, np.full(n, 5.0), rng.uniform(-2, 2, n), rng.uniform(-3, 3, n), "pi+")
    tracked = (obj.channel == TRACK).sum()
    assert tracked / n == pytest.approx(0.8, abs=4 * np.sqrt(0.8 * 0.2 / n))
    soft = respond(det, np.full(100, 0.9), np.zeros(100), np.linspace(-3, 3, 100), "pi+")
    assert (soft.channel == TRACK).sum() == 0  # below pt_min: no track (the pions go to the HCAL)


def test_track_resolution_grows_with_pt():
    det = Detector(tracker=Tracker(efficiency=1.0, resolution_const=0.01, resolution_slope=1.5e-4))
    n = 20000
    for pt in (10.0, 1000.0):
        obj = respond(det, np.full(n, pt), np.zeros(n), np.linspace(-3, 3, n), "pi+", seed=5)
        ratio = obj.pt / pt
        expected = np.hypot(0.01, 1.5e-4 * pt)
        assert ratio.mean() == pytest.approx(1.0, abs=5 * expected / np.sqrt(n))  # unbiased
        assert ratio.std() == pytest.approx(expected, rel=0.05)


def test_calorimeter_energy_resolution_and_no_negative_energy():
    det = Detector(ecal=Calorimeter(eta_max=3.0, cell_eta=0.0174, cell_phi=0.0174, stochastic=0.10, constant=0.01,
                                    noise=0.0, threshold=0.0, significance_min=0.0,
                                    smear_position=False))
    n = 20000
    energy = 100.0
    # One photon per event, same cell: the spread is the cell-energy resolution.
    obj = respond(det, np.full(n, energy), np.zeros(n), np.zeros(n), "gamma", event=np.arange(n))
    e = obj.pt * np.cosh(obj.eta)
    sigma = np.sqrt(0.10 ** 2 * energy + (0.01 * energy) ** 2)
    assert len(e) == n
    assert e.mean() == pytest.approx(energy, abs=5 * sigma / np.sqrt(n))
    assert e.std() == pytest.approx(sigma, rel=0.05)
    wide = Detector(hcal=Calorimeter(eta_max=5.0, cell_eta=0.087, cell_phi=0.087, stochastic=3.0, constant=0.5,
                                     noise=2.0, threshold=0.0, significance_min=0.0,
                                     smear_position=False))
    obj = respond(wide, np.full(n, 2.0), np.zeros(n), np.zeros(n), "n", event=np.arange(n))
    assert (obj.pt > 0).all()


def test_significance_cut_drops_cells_below_two_sigma_of_their_smeared_energy():
    # HCAL with the default resolution (100 %/sqrt(E) (+) 5 %): 2 sigma(E) < E holds above about 4.04 GeV.
    hcal = dict(eta_max=5.0, cell_eta=0.087, cell_phi=0.087, stochastic=1.0, constant=0.05, noise=0.0, threshold=1.0)
    n = 20000
    energies = np.where(np.arange(n) % 2 == 0, 3.0, 30.0)  # one neutron per event, half soft and half hard
    cut, kept = (Detector(hcal=Calorimeter(**hcal, significance_min=s, smear_position=True)) for s in (2.0, 0.0))
    obj_cut, obj_all = (respond(d, energies, np.zeros(n), np.zeros(n), "n", event=np.arange(n)) for d in (cut, kept))
    e_cut, e_all = (o.pt * np.cosh(o.eta) for o in (obj_cut, obj_all))
    sigma = np.sqrt(e_cut + (0.05 * e_cut) ** 2)
    assert (e_cut >= 2.0 * sigma).all() and e_cut.min() > 4.0
    # The same random numbers: the cut only removes cells, it changes none of the others.
    assert np.allclose(np.sort(e_cut), np.sort(e_all[e_all >= 2.0 * np.sqrt(e_all + (0.05 * e_all) ** 2)]))
    # Almost every 30 GeV cell passes (2 sigma there is about 11 GeV); most 3 GeV cells do not.
    assert (e_cut > 15).sum() == pytest.approx(n / 2, rel=0.01)
    assert 0 < (e_all < 15).sum() - (e_cut < 15).sum()
    assert (e_cut < 15).sum() < 0.2 * (n / 2)


def test_smeared_positions_fill_their_cell_uniformly():
    # One neutron per event at the same point: every object lies in that point's HCAL cell, spread evenly.
    n = 20000
    hcal = Calorimeter(eta_max=5.0, cell_eta=0.087, cell_phi=0.087, stochastic=0, constant=0, noise=0, threshold=1.0,
                       significance_min=0, smear_position=True)
    obj = respond(Detector(hcal=hcal), np.full(n, 50.0), np.full(n, 0.3), np.full(n, 1.0), "n", event=np.arange(n))
    w_eta, w_phi = 2 * 5.0 / hcal.n_eta, 2 * np.pi / hcal.n_phi
    u_eta = (obj.eta + 5.0) / w_eta - np.floor((0.3 + 5.0) / w_eta)
    u_phi = (obj.phi + np.pi) / w_phi - np.floor((1.0 + np.pi) / w_phi)
    for u in (u_eta, u_phi):
        assert u.min() >= 0 and u.max() < 1  # inside the cell of the deposit
        assert u.mean() == pytest.approx(0.5, abs=0.01) and u.std() == pytest.approx(12 ** -0.5, abs=0.01)
    assert np.allclose(obj.pt * np.cosh(obj.eta), 50.0 * np.cosh(0.3))  # the energy is kept, pT follows the drawn eta


def test_cells_merge_particles_and_sit_at_cell_centres():
    # Two photons 0.005 apart share an ECAL cell (0.0174); a third 0.1 away gets its own.
    obj = respond(PERFECT, [10.0, 20.0, 30.0], [0.1005, 0.1055, 0.2], [0.3005, 0.3005, 0.3005], "gamma")
    assert len(obj.pt) == 2
    e = np.sort(obj.pt * np.cosh(obj.eta))
    assert np.allclose(e, np.sort([30.0 * np.cosh(0.2), 10.0 * np.cosh(0.1005) + 20.0 * np.cosh(0.1055)]), rtol=1e-12)
    cell = 2 * 3.0 / PERFECT.ecal.n_eta
    centres = (obj.eta + 3.0) / cell - 0.5
    assert np.allclose(centres, np.round(centres), atol=1e-9)
    phi_cell = 2 * np.pi / PERFECT.ecal.n_phi
    assert np.allclose(((obj.phi + np.pi) / phi_cell - 0.5) % 1.0, 0.0, atol=1e-9)


def test_thresholds_drop_soft_cells():
    obj = respond(PERFECT, [0.3, 0.8, 0.6], [0.0, 0.0, 1.0], [0.0, 1.0, 2.0], ["gamma", "gamma", "n"])
    # photon 0.3 GeV < 0.5 dropped; photon 0.8 kept; neutron 0.6 GeV < 1 GeV HCAL threshold dropped
    assert obj.channel.tolist() == [ECAL]


def test_energy_is_conserved_without_smearing_and_events_stay_apart():
    rng = np.random.default_rng(2)
    n = 3000
    event = rng.integers(0, 7, n)
    names = rng.choice(["pi+", "gamma", "n", "K_L", "e-"], n)
    pt = rng.exponential(5.0, n) + 2.0
    eta, phi = rng.uniform(-2.4, 2.4, n), rng.uniform(-np.pi, np.pi, n)
    offsets, px, py, pz, e, pid, charge = particles(pt, eta, phi, names, event=event)
    obj = PERFECT.respond(offsets, px, py, pz, e, pid, charge, np.random.default_rng(0))
    obj_e = obj.pt * np.cosh(obj.eta)
    for k in range(7):
        sl_in, sl_out = slice(offsets[k], offsets[k + 1]), slice(obj.offsets[k], obj.offsets[k + 1])
        assert obj_e[sl_out].sum() == pytest.approx(e[sl_in].sum(), rel=1e-12)
    assert obj.n_events == 7


def test_same_seed_same_response():
    rng = np.random.default_rng(4)
    args = (rng.exponential(10, 500) + 1, rng.uniform(-3, 3, 500), rng.uniform(-3, 3, 500),
            rng.choice(["pi+", "gamma", "n"], 500))
    a, b = respond(Detector(), *args, seed=9), respond(Detector(), *args, seed=9)
    c = respond(Detector(), *args, seed=10)
    assert all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("pt", "eta", "phi", "channel", "charge"))
    assert not np.array_equal(a.pt, c.pt)


@pytest.mark.parametrize("kwargs,match", [
    ({"tracker": Tracker(efficiency=1.2)}, "efficiency"),
    ({"tracker": Tracker(resolution_const=-0.01)}, "resolution_const"),
    ({"ecal": Calorimeter(3.0, 0.0174, 0.0174, -0.1, 0.01, 0.0, 0.5, 2.0, True)}, "stochastic"),
    ({"hcal": Calorimeter(5.0, 0.0, 0.087, 1.0, 0.05, 0.0, 1.0, 2.0, True)}, "cell_eta"),
    ({"hcal": Calorimeter(5.0, 0.087, 0.087, 1.0, 0.05, 0.0, 1.0, -1.0, True)}, "significance_min"),
])
def test_impossible_parameters_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Detector(**kwargs)
    check_detector(Detector())  # the defaults are fine
