"""The shared epoch loop (hepad.models.training): early stopping, kept epochs, NaN stop, log, checkpoint
and bit-identical resume, stale partial files; every trainer's model file is the same bytes for the same fit;
hepad.models.base.check_array."""

import hashlib
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from hepad.io import InputError
from hepad.models.base import BestEpochs, NonFiniteLossError, check_array
from hepad.models.training import Checkpoint, PlateauDrop, partial_files, timed_history, train

SRC = Path(__file__).resolve().parents[1] / "src"


class Toy:
    """A small regression trained through ``train`` with every kind of state a trainer can have: a torch
    generator across epochs (batch order), a numpy one (input noise), torch's global one (dropout) and a
    scheduler."""

    def __init__(self, seed=0, lr=0.05, n=300):
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        self.x = torch.as_tensor(rng.normal(size=(n, 3)), dtype=torch.float32)
        self.y = self.x @ torch.tensor([1.0, -2.0, 0.5]) + 0.1 * torch.as_tensor(rng.normal(size=n), dtype=torch.float32)
        self.xv, self.yv = self.x[:60] + 0.05, self.y[:60]
        self.net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Dropout(0.2), torch.nn.ReLU(), torch.nn.Linear(8, 1))
        self.opt = torch.optim.Adam(self.net.parameters(), lr=lr)
        self.sched = torch.optim.lr_scheduler.StepLR(self.opt, step_size=7, gamma=0.7)
        self.gen = torch.Generator().manual_seed(seed)
        self.noise = np.random.default_rng(seed + 1)
        self.calls = 0

    def batches(self, epoch):
        return torch.split(torch.randperm(len(self.x), generator=self.gen), 64)

    def loss(self, idx):
        self.calls += 1
        jitter = torch.as_tensor(self.noise.normal(scale=0.01, size=(len(idx), 3)), dtype=torch.float32)
        return (self.net(self.x[idx] + jitter).squeeze(1) - self.y[idx]).pow(2).mean(), len(idx)

    def validate(self, train_loss):
        return float((self.net(self.xv).squeeze(1) - self.yv).pow(2).mean())

    def run(self, **kw):
        args = dict(name="toy", max_epochs=6, batches=self.batches, loss=self.loss, validate=self.validate,
                    selection=BestEpochs(2), scheduler=self.sched, generators=[self.gen, self.noise])
        args.update(kw)
        return train(self.net, self.opt, **args)


def _same_result(a, b):
    assert a.history == b.history
    assert a.selection.epochs == b.selection.epochs and a.selection.losses == b.selection.losses
    for sa, sb in zip(a.selection.states, b.selection.states):
        for key in sa:
            assert torch.equal(sa[key], sb[key]), key


def test_resume_is_bit_identical_with_generators_scheduler_and_global_rng(tmp_path):
    ref_toy = Toy()
    reference = ref_toy.run()
    ckpt = Checkpoint(tmp_path / "toy.ckpt", {"lr": 0.05}, [1, 2])
    toy = Toy()
    original = toy.loss

    def killed(batch):
        if toy.calls == 12:  # in epoch 3 (5 batches per epoch)
            raise KeyboardInterrupt
        return original(batch)

    with pytest.raises(KeyboardInterrupt):
        toy.run(checkpoint=ckpt, loss=killed)
    assert torch.load(ckpt.path, weights_only=True)["epoch"] == 2
    torch.randn(5)  # whatever the process did in between
    resumed_toy = Toy()
    resumed = resumed_toy.run(checkpoint=ckpt)
    assert resumed.resumed_epochs == 2 and len(resumed.seconds) == 6
    _same_result(resumed, reference)
    for key, value in ref_toy.net.state_dict().items():
        assert torch.equal(resumed_toy.net.state_dict()[key], value)
    # A finished checkpoint is not trained again; one of other settings is ignored.
    again = Toy()
    assert again.run(checkpoint=ckpt).history == reference.history and again.calls == 0
    other = Toy()
    other.run(checkpoint=Checkpoint(ckpt.path, {"lr": 0.1}, [1, 2]))
    assert other.calls == 30


def test_early_stopping_keeps_the_best_epochs_and_logs_each_epoch(caplog):
    toy = Toy(lr=0.0)
    toy.sched = None
    with caplog.at_level(logging.INFO, logger="hepad.models.training"):
        result = toy.run(max_epochs=20, patience=2, scheduler=None, first_epoch=0)
    # lr 0: the validation loss (no dropout in evaluation) never improves after the first epoch.
    assert len(result.history) == 3
    assert [h["epoch"] for h in result.history] == list(range(len(result.history)))
    assert result.selection.since_best == 2
    assert result.selection.losses == sorted(h["val_loss"] for h in result.history)[:2]
    lines = [r.getMessage() for r in caplog.records if " epoch " in r.getMessage()]
    assert len(lines) == len(result.history)
    assert lines[0].startswith("toy epoch 1/20: train ") and " s" in lines[0]
    assert any("early stop" in r.getMessage() for r in caplog.records)
    assert all("seconds" not in h for h in result.history) and len(result.seconds) == len(result.history)
    timed = timed_history(result.history, result.seconds)
    assert [h["seconds"] for h in timed] == result.seconds


def test_plateau_drop_divides_the_learning_rate_after_stalled_epochs():
    toy = Toy(lr=0.01)
    losses = iter([1.0, 0.5] + [0.6] * 20)  # best after epoch 2, then stalled
    result = toy.run(max_epochs=20, patience=7, scheduler=None, validate=lambda _: next(losses),
                     plateau=PlateauDrop(3, factor=0.1, min_lr=2e-5))
    lrs = [h["lr"] for h in result.history]  # the rate each epoch trained with
    assert len(lrs) == 2 + 7  # early stop 7 epochs after the best
    assert lrs[:5] == [0.01] * 5  # dropped after the 3rd stalled epoch (epoch 5), used from epoch 6
    assert lrs[5:] == pytest.approx([1e-3, 1e-3, 1e-3, 1e-4])  # again after the 6th (epoch 8)
    result = Toy(lr=0.01).run(max_epochs=12, patience=20, scheduler=None, validate=lambda _: 1.0,
                              plateau=PlateauDrop(2, min_lr=2e-5))
    assert min(h["lr"] for h in result.history) == pytest.approx(2e-5)  # floored at min_lr
    # improvements smaller than min_delta count as stalled for the drop, not for the early stopping
    losses = iter(1.0 - 1e-5 * np.arange(20))
    result = Toy(lr=0.01).run(max_epochs=8, patience=3, scheduler=None, validate=lambda _: next(losses),
                              plateau=PlateauDrop(3, min_delta=1e-3))
    assert len(result.history) == 8 and result.selection.since_best == 0
    assert [h["lr"] for h in result.history] == pytest.approx([0.01] * 4 + [1e-3] * 3 + [1e-4])
    with pytest.raises(ValueError, match="not both"):
        Toy().run(plateau=PlateauDrop(2), learning_rate=lambda e, b: 0.1)
    with pytest.raises(ValueError):
        PlateauDrop(0)


def test_without_validation_the_latest_epochs_are_kept():
    result = Toy().run(validate=None, patience=1)
    assert len(result.history) == 6 and result.selection.epochs == [6, 5]
    assert all(h["val_loss"] is None for h in result.history)


def test_non_finite_losses_name_the_epoch_batch_and_cause():
    toy = Toy()
    original = toy.loss

    def nan_in_epoch_2(batch):
        value, n = original(batch)
        return (value * torch.nan if toy.calls == 7 else value), n

    with pytest.raises(NonFiniteLossError, match=r"toy training diverged: loss is nan in epoch 2, batch 2 of 5 "
                                                 r"\(learning rate 0\.5\); try less"):
        toy.run(loss=nan_in_epoch_2, learning_rate=lambda e, b: 0.5, hint="try less")
    toy = Toy()
    with pytest.raises(NonFiniteLossError, match=r"^toy training diverged: loss is nan in epoch 2; try less$"):
        toy.run(loss=_nan_after(toy, 6), check_batches=False, hint="try less")
    with pytest.raises(NonFiniteLossError, match=r"toy validation loss is inf after epoch 1; check the scaling"):
        Toy().run(validate=lambda _: float("inf"), val_hint="check the scaling")


def _nan_after(toy, calls):
    def loss(batch):
        value, n = toy.loss(batch)
        return (value * torch.nan if toy.calls > calls else value), n
    return loss


def test_stale_partials_are_removed_when_the_checkpoint_is_written_and_at_the_end(tmp_path):
    path = tmp_path / "toy.ckpt"
    stale = tmp_path / ".toy.ckpt.partial-4242424"
    stale.write_bytes(b"half a checkpoint")
    toy = Toy()
    original = toy.loss
    seen = []

    def watch(batch):
        if toy.calls == 4:  # last batch of epoch 1 (5 per epoch): another writer dies now
            (tmp_path / ".toy.ckpt.partial-4343434").write_bytes(b"x")
        if toy.calls == 5:  # first batch of epoch 2, after the checkpoint of epoch 1
            seen.append(partial_files(path))
        return original(batch)

    toy.run(checkpoint=Checkpoint(path, {}, None), loss=watch, max_epochs=2)
    assert seen == [[]]
    assert partial_files(path) == [] and path.exists()
    (tmp_path / ".toy.ckpt.partial-77").write_bytes(b"x")
    toy.run(checkpoint=Checkpoint(path, {}, None), max_epochs=2)  # finished: nothing trained, still cleaned
    assert partial_files(path) == []


def test_flow_checkpoint_killed_while_written_resumes_and_cleans_up(tmp_path):
    # A real SIGKILL in the middle of writing the checkpoint of epoch 3.
    ckpt = tmp_path / "flow.ckpt"
    code = textwrap.dedent("""
        import os, signal, sys
        from pathlib import Path
        sys.path.insert(0, sys.argv[1])
        import numpy as np
        import hepad.models.training as training
        from hepad.models.flows import ConditionalFlow
        original, calls = training.save_torch_state, []

        def dying(path, state):
            calls.append(1)
            if len(calls) == 3:  # killed while the checkpoint of epoch 3 is half written
                path = Path(path)
                (path.parent / f".{path.name}.partial-{os.getpid()}").write_bytes(b"PK half")
                os.kill(os.getpid(), signal.SIGKILL)
            original(path, state)

        training.save_torch_state = dying
        x = np.random.default_rng(3).normal(size=(600, 2))
        ConditionalFlow(n_features=2, n_blocks=1, hidden=8, max_epochs=5, implementation="made", threads=1,
                        device="cpu").fit(x[:500], x[:500, 0], x[500:], x[500:, 0], checkpoint_path=sys.argv[2])
    """)
    proc = subprocess.run([sys.executable, "-c", code, str(SRC), str(ckpt)], capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr
    assert len(partial_files(ckpt)) == 1 and torch.load(ckpt, weights_only=True)["epoch"] == 2

    from hepad.models.flows import ConditionalFlow

    x = np.random.default_rng(3).normal(size=(600, 2))
    args = (x[:500], x[:500, 0], x[500:], x[500:, 0])
    make = lambda: ConditionalFlow(n_features=2, n_blocks=1, hidden=8, max_epochs=5, implementation="made",  # noqa: E731
                                   threads=1, device="cpu")
    resumed = make().fit(*args, checkpoint_path=ckpt)
    reference = make().fit(*args)
    assert partial_files(ckpt) == []
    assert resumed.history_ == reference.history_
    np.testing.assert_array_equal(resumed.log_prob(x[:20], x[:20, 0]), reference.log_prob(x[:20], x[:20, 0]))


def test_vae_prior_checkpoint_resume_is_bit_identical(tmp_path, monkeypatch):
    from hepad.quak.priors import VAEPrior

    rng = np.random.default_rng(0)
    a = rng.normal(size=(900, 3)).astype(np.float32)
    make = lambda: VAEPrior(n_latent=2, hidden=(8,), prior_blocks=1, prior_hidden=4, batch_size=200,  # noqa: E731
                            max_epochs=4, patience=None, threads=1, device="cpu")
    reference = make().fit(a[:700], a[700:])
    ckpt = tmp_path / "vae.ckpt"
    original, calls = torch.optim.Adam.step, []

    def step(self, *args, **kw):
        calls.append(1)
        if len(calls) == 6:  # epoch 2 (4 batches per epoch)
            raise KeyboardInterrupt
        return original(self, *args, **kw)

    monkeypatch.setattr(torch.optim.Adam, "step", step)
    with pytest.raises(KeyboardInterrupt):
        make().fit(a[:700], a[700:], checkpoint_path=ckpt)
    monkeypatch.setattr(torch.optim.Adam, "step", original)
    resumed = make().fit(a[:700], a[700:], checkpoint_path=ckpt)
    assert resumed.history_ == reference.history_
    np.testing.assert_array_equal(resumed.score(a[:50]), reference.score(a[:50]))


# ------------------------------------------------------------------------------------ identical model files

def _trainers():
    from hepad.codae.baselines import CNNClassifier, ConvAutoEncoder
    from hepad.codae.model import CoDAE
    from hepad.mimic.image_ae import ImageAutoEncoder
    from hepad.mimic.mimickers import HighLevelNetwork, PairedNeuralNetwork
    from hepad.models.classifiers import HGBEnsemble, MLPClassifier
    from hepad.models.flows import ConditionalFlow
    from hepad.quak.priors import FlowPrior, VAEPrior

    rng = np.random.default_rng(0)
    a = rng.normal(size=(600, 3)).astype(np.float32)
    y = (rng.random(600) < 0.4).astype(int)
    img = (rng.random((40, 1, 16, 12)) < 0.1).astype(np.float32)
    jets = rng.random((40, 16, 16)).astype(np.float32)
    jets /= jets.sum(axis=(1, 2), keepdims=True)
    small_image = dict(encoder_channels=(4,), latent_channels=2, fm_channels=(4,), decoder_channels=(4,), epochs=2,
                       batch_size=16, threads=1, device="cpu")
    return {
        "flow": lambda: ConditionalFlow(n_features=2, n_blocks=2, hidden=8, max_epochs=2, implementation="made",
                                        threads=1, device="cpu").fit(a[:500, :2], a[:500, 2], a[500:, :2], a[500:, 2]),
        "mlp": lambda: MLPClassifier(hidden=(8,), epochs=2, threads=1, device="cpu").fit(a, y, a, y),
        "hgb": lambda: HGBEnsemble(n_models=2, max_iter=5, threads=1).fit(a, y, a, y),
        "codae": lambda: CoDAE(**small_image).fit(img, img[:8]),
        "conv_ae": lambda: ConvAutoEncoder(**small_image).fit(img),
        "cnn": lambda: CNNClassifier(channels=(4,), hidden=4, epochs=2, batch_size=16, threads=1,
                                     device="cpu").fit(img, np.arange(40) % 2),
        "image_ae": lambda: ImageAutoEncoder(bottleneck=2, epochs=2, batch_size=16, threads=1).fit(jets),
        "hln": lambda: HighLevelNetwork(hidden=(8,), epochs=2, threads=1).fit(a, np.exp(a[:, 0])),
        "pnn": lambda: PairedNeuralNetwork(hidden=(8,), epochs=2, n_pairs=500, threads=1).fit(a, np.exp(a[:, 0])),
        "flow_prior": lambda: FlowPrior(n_blocks=2, hidden=8, max_epochs=2, batch_size=256, threads=1).fit(a[:500], a[500:]),
        "vae_prior": lambda: VAEPrior(n_latent=2, hidden=(8,), prior_blocks=1, prior_hidden=4, max_epochs=2,
                                      threads=1).fit(a[:500], a[500:]),
    }


@pytest.mark.parametrize("kind", sorted(_trainers()))
def test_identical_fits_save_byte_identical_model_files(kind, tmp_path, monkeypatch):
    from hepad.codae.model import CoDAE

    monkeypatch.setattr(CoDAE, "progress", False)
    digests = []
    for run in ("a", "b"):
        model = _trainers()[kind]()
        assert all("seconds" not in h for h in model.history_)
        assert [h["seconds"] for h in model.timed_history()] and len(model.timed_history()) == len(model.history_)
        (tmp_path / run).mkdir()
        model.save(tmp_path / run / "model.pt")  # same file name: torch names the archive after it
        digests.append(hashlib.sha256((tmp_path / run / "model.pt").read_bytes()).hexdigest())
    assert digests[0] == digests[1]


# ---------------------------------------------------------------------------------------------- check_array

def test_check_array_names_the_argument():
    assert check_array([1.0, 2.0], "x").shape == (2, 1)
    assert check_array(np.zeros((3, 2)), "x", dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match=r"x_val must have shape \(n, 4\), got \(3, 2\)"):
        check_array(np.zeros((3, 2)), "x_val", columns=4)
    with pytest.raises(ValueError, match=r"x must have shape \(n, n_features\), got \(3,\)"):
        check_array(np.zeros(3), "x", column=False)
    with pytest.raises(ValueError, match=r"cond must have one row per event \(5\), got shape \(3, 1\)"):
        check_array(np.zeros(3), "cond", rows=5)
    with pytest.raises(ValueError, match=r"images must have shape \(n, c, h, w\)"):
        check_array(np.zeros((2, 3)), "images", ndim=4, shape="(n, c, h, w)")
    bad = np.zeros((4, 2))
    bad[1, 0], bad[3, 1] = np.nan, np.inf
    with pytest.raises(InputError, match=r"^2 rows of x are NaN or infinite; drop them$"):
        check_array(bad, "x", finite=True, hint="drop them")
    assert check_array(np.zeros((0, 2)), "x", finite=True).shape == (0, 2)


def test_setup_threads_and_device():
    from hepad.models.training import setup

    before = torch.get_num_threads()
    try:
        assert setup(1, "cpu") == torch.device("cpu") and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
