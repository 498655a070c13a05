"""VAE and GAN backends: the same promises as the GMM, on tiny trainings."""

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from tabsynth import Synthesizer  # noqa: E402
from tabsynth.backends import available, get_backend_class  # noqa: E402
from tabsynth.backends.nn import CatHead, RowCodec  # noqa: E402
from tabsynth.backends.train import auto_epochs  # noqa: E402
from tabsynth.encoding import Encoded, Layout  # noqa: E402

NEURAL = ["vae", "gan"]
SMALL = {"hidden": (32, 32), "batch_size": 100}


def small(backend: str, epochs: int = 3, **kw) -> Synthesizer:
    extra = {"latent_dim": 8} if backend == "vae" else {"noise_dim": 8}
    return Synthesizer(backend, random_state=0, epochs=epochs, **SMALL, **extra, **kw)


def test_registered():
    assert {"gmm", "vae", "gan"} <= set(available())


@pytest.mark.parametrize("backend", NEURAL)
def test_dtypes_and_ranges(backend, mixed):
    out = small(backend).fit(mixed).sample(120, seed=1)
    assert list(out.columns) == list(mixed.columns)
    assert [str(t) for t in out.dtypes] == [str(t) for t in mixed.dtypes]
    assert out["i"].between(mixed["i"].min(), mixed["i"].max()).all()
    assert set(out["s"].dropna()) <= set(mixed["s"].dropna())


@pytest.mark.parametrize("backend", NEURAL)
def test_seeded_and_global_rng_untouched(backend, mixed, tmp_path):
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    a = small(backend).fit(mixed)
    after = torch.rand(3)
    assert torch.equal(before, after), "fitting must not consume torch's global RNG"
    b = small(backend).fit(mixed)
    pd.testing.assert_frame_equal(a.sample(50, seed=4), b.sample(50, seed=4))
    path = a.save(tmp_path / "m.tabsynth")
    c = Synthesizer.load(path)
    pd.testing.assert_frame_equal(a.sample(50, seed=4), c.sample(50, seed=4))
    assert c.backend_.history_ == a.backend_.history_


@pytest.mark.parametrize("backend", NEURAL)
def test_given_cells_kept_and_missing_not_drawn(backend, mixed):
    syn = small(backend).fit(mixed)
    holes = mixed.copy()
    rng = np.random.default_rng(0)
    for col in ["f", "i", "s", "nb", "ps"]:
        holes.loc[rng.random(len(holes)) < 0.3, col] = None
    filled = syn.impute(holes, seed=0)
    for col in ["f", "i", "s", "nb", "ps"]:
        known = holes[col].notna()
        assert filled.loc[known, col].astype(object).equals(holes.loc[known, col].astype(object))
        assert filled[col].notna().all(), col
    given = pd.DataFrame({"s": ["low"] * 40})
    out = syn.sample(40, given=given, seed=0)
    assert (out["s"] == "low").all()


def _two_clusters(n: int = 1200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    g = rng.random(n) < 0.5
    return pd.DataFrame({"g": np.where(g, "up", "down"), "x": np.where(g, 5.0, -5.0) + rng.normal(size=n),
                         "y": rng.normal(size=n)})


@pytest.mark.parametrize("backend, epochs, kw, share", [("vae", 100, {"beta": 0.2}, 0.7), ("gan", 100, {"lr": 1e-3}, 0.9)])
def test_learns_the_dependency_and_conditions_on_it(backend, epochs, kw, share):
    """x depends on g: sampled rows, class-conditional rows and imputed cells must show it.

    (x given g is N(+-5, 1); without the dependency each share below would be ~0.5.)
    """
    df = _two_clusters()
    syn = small(backend, epochs=epochs, **kw).set_params(hidden=(64, 64)).fit(df)
    out = syn.sample(600, seed=0)
    up = out.loc[out["g"] == "up", "x"].mean()
    down = out.loc[out["g"] == "down", "x"].mean()
    assert up - down > 6, (up, down)
    assert 0.4 < (out["g"] == "up").mean() < 0.6
    cond = syn.sample(200, given=pd.DataFrame({"g": ["up"] * 200}), seed=0)
    assert (cond["x"] > 0).mean() > share
    fill = syn.impute(pd.DataFrame({"g": ["up", "down"] * 50, "x": [np.nan] * 100, "y": [0.0] * 100}), seed=0)
    x = fill["x"].to_numpy()
    assert (x[0::2] > 0).mean() > share and (x[1::2] < 0).mean() > share


@pytest.mark.parametrize("backend, param, value", [
    ("vae", "epochs", 0), ("vae", "epochs", "abc"), ("vae", "hidden", "x"), ("vae", "lr", -1.0),
    ("vae", "gibbs_steps", -1), ("vae", "fitted_prior", "yes"), ("gan", "batch_size", 0), ("gan", "hidden", []), ("gan", "tau", 0),
    ("gmm", "n_components", 0), ("gmm", "max_iter", "x"), ("gmm", "candidates", [0]),
])
def test_bad_backend_params_are_one_line_errors(backend, param, value):
    from tabsynth.errors import InputError

    df = _two_clusters(50)
    with pytest.raises(InputError, match=f"parameter {param}="):
        Synthesizer(backend, **{param: value}).fit(df)


def test_auto_epochs():
    from tabsynth.backends.train import batch_rows

    assert auto_epochs(26048, 500, 3000) == 57
    assert auto_epochs(100, 500, 3000) == 500
    assert auto_epochs(4000, 500, 4000) == 500          # every step: 8 per epoch
    assert auto_epochs(10**7, 500, 3000) == 1          # about 3,000 steps, however many rows
    assert auto_epochs(10**6, 500, 3000) == 2
    # small tables: eight steps per epoch (a batch of 500 on 455 rows was one step per epoch)
    assert batch_rows(455, 500) == 57 and batch_rows(100, 500) == 32 and batch_rows(26048, 500) == 500
    assert batch_rows(455, 20) == 20 and batch_rows(10, 500) == 32


def test_small_tables_train_in_small_batches():
    from tabsynth.backends.gan import GANBackend

    df = _two_clusters(200)
    syn = Synthesizer("gan", random_state=0, epochs=2, hidden=[16]).fit(df)
    assert isinstance(syn.backend_, GANBackend)
    assert [h["steps"] for h in syn.backend_.history_] == [7, 7]   # 200 rows, batches of 32


def test_codec_and_cat_head_round_trip():
    lay = Layout(2, [3, 2], [True, False])
    enc = Encoded(np.array([[0.5, -1.0], [2.0, 0.0]], np.float32), np.array([[2, 1], [0, 0]]), lay,
                  mask_num=np.array([[True, False], [True, True]]), mask_cat=np.array([[False, True], [True, True]]))
    codec = RowCodec(lay)
    rows = codec.rows(enc)
    assert rows.shape == (2, 7)
    assert rows[0].tolist() == [0.5, -1.0, 0, 0, 1, 0, 1]
    m = codec.column_mask(enc)
    assert m.tolist() == [[1, 0, 0, 1], [1, 1, 1, 1]]
    assert codec.widen(m)[0].tolist() == [1, 0, 0, 0, 0, 1, 1]
    head = CatHead(lay)
    logits = torch.tensor([[0.0, 0.0, 50.0, 0.0, 50.0]] * 4)
    g = torch.Generator().manual_seed(0)
    assert head.sample(logits, g).tolist() == [[2, 1]] * 4
    forbid = torch.tensor([[True, True]] * 4)
    assert (head.sample(logits, g, forbid)[:, 0] != 2).all()  # code 2 is column 0's missing code
    nll = head.nll(logits, torch.tensor([[2, 1]] * 4))
    assert torch.all(nll < 1e-6)
    st = head.one_hot_st(logits, 0.2, g)
    assert st.shape == (4, 5) and torch.allclose(st.sum(1), torch.full((4,), 2.0))


def test_backend_classes_have_sklearn_params():
    for name in NEURAL:
        cls = get_backend_class(name)
        b = cls(epochs=2)
        assert b.get_params()["epochs"] == 2
        b.set_params(batch_size=64)
        assert b.batch_size == 64


def test_cli_epochs_and_progress_free_output(tmp_path, capsys):
    from tabsynth.cli import main

    path = tmp_path / "t.csv"
    _two_clusters(200).to_csv(path, index=False)
    model = tmp_path / "m.tabsynth"
    with pytest.raises(SystemExit) as exc:
        main(["fit", str(path), "-o", str(model), "--backend", "gan", "--epochs", "2", "--param", "hidden=[16]", "-q"])
    assert exc.value.code == 0
    assert capsys.readouterr().err == ""
    assert len(Synthesizer.load(model).backend_.history_) == 2
    with pytest.raises(SystemExit) as exc:
        main(["augment", str(path), "--epochs", "2", "-q"])
    assert exc.value.code == 2 and "trees backend has no epochs" in capsys.readouterr().err


@pytest.mark.parametrize("backend", NEURAL)
def test_degenerate_layouts(backend):
    """Only numbers, only categories, or nothing modelled at all (constant + id columns)."""
    import warnings

    tables = [pd.DataFrame({"n": np.arange(30.0)}), pd.DataFrame({"c": list("ab" * 15)}),
              pd.DataFrame({"a": ["x"] * 30, "b": [f"id{i}" for i in range(30)]})]
    for df in tables:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            syn = small(backend, epochs=2).fit(df)
            assert syn.sample(5, seed=0).shape == (5, df.shape[1])
            assert syn.impute(df.head(3), seed=0).shape == (3, df.shape[1])


def test_auto_hidden_widths_follow_the_number_of_columns(tmp_path):
    from tabsynth.backends.nn import hidden_widths

    assert hidden_widths("auto", 3) == (128, 128)
    assert hidden_widths("auto", 6) == (192, 192)
    assert hidden_widths("auto", 19) == (256, 256)   # adult: 6 numbers and 13 categorical codes
    assert hidden_widths([64, 32], 19) == (64, 32)
    df = _two_clusters(200)
    for backend in NEURAL:
        syn = Synthesizer(backend, random_state=0, epochs=1).fit(df)
        first = next(m for m in getattr(syn.backend_, syn.backend_._nets[0]).modules() if isinstance(m, torch.nn.Linear))
        assert first.out_features == 128   # a narrow table gets the narrow network
        syn.save(tmp_path / f"{backend}.tsyn")
        again = Synthesizer.load(tmp_path / f"{backend}.tsyn")
        pd.testing.assert_frame_equal(again.sample(50, seed=3), syn.sample(50, seed=3))


def test_vae_draws_z_from_the_fitted_aggregate_posterior():
    """Unconditional rows: z from a Gaussian with the moments of the training rows' posteriors.

    A model saved without the fitted Gaussian (older files) draws z from N(0, I).
    """
    df = _two_clusters()
    fitted = small("vae", epochs=10).fit(df)
    plain = small("vae", epochs=10, fitted_prior=False).fit(df)
    fb, pb = fitted.backend_, plain.backend_
    for name in fb._nets:  # fitted after training: the networks are the same
        for a, b in zip(getattr(fb, name).state_dict().values(), getattr(pb, name).state_dict().values()):
            assert torch.equal(a, b), name
    assert pb.z_chol_ is None
    enc = fitted.encoder_.transform(df, np.random.default_rng(0), missing="model")
    rows, _ = fb._view(enc)
    with torch.no_grad():
        mu, logvar = fb._encode(rows, torch.ones((rows.shape[0], fb.view_codec_.n_cols)))
    cov = fb.z_chol_ @ fb.z_chol_.T
    # one posterior draw per row: the mean of the means; the covariance of the means plus the mean variance
    assert torch.allclose(fb.z_mean_, mu.mean(0), atol=0.08)
    assert torch.allclose(cov, torch.cov(mu.T) + torch.diag(logvar.exp().mean(0)), atol=0.15)
    assert (cov - torch.eye(cov.shape[0])).abs().max() > 0.3  # far from the N(0, I) prior here
    assert not fitted.sample(200, seed=1).equals(plain.sample(200, seed=1))
    meta, arrays = fb.get_state()
    assert {"vae.z_mean", "vae.z_chol"} <= set(arrays)
    old = {k: v for k, v in arrays.items() if not k.startswith("vae.z_")}
    fitted.backend_ = type(fb).from_state(fb.get_params(), meta, old)
    pd.testing.assert_frame_equal(fitted.sample(200, seed=1), plain.sample(200, seed=1))


def test_adam_takes_the_fused_kernel_and_steps_as_adam_does():
    """The backends' optimiser: fused where torch has it, the same update as the reference loop to float precision."""
    import torch

    from tabsynth.backends.nn import adam

    torch.manual_seed(0)
    a = [torch.nn.Parameter(torch.randn(5, 3)), torch.nn.Parameter(torch.randn(7))]
    b = [torch.nn.Parameter(p.detach().clone()) for p in a]
    fast = adam(a, lr=1e-2, betas=(0.5, 0.9), weight_decay=1e-5)
    slow = torch.optim.Adam(b, lr=1e-2, betas=(0.5, 0.9), weight_decay=1e-5, foreach=False)
    assert fast.defaults.get("fused") or fast.defaults.get("foreach")
    if tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2]) >= (2, 4):  # fused on CPU since 2.4
        assert fast.defaults.get("fused")
    for _ in range(5):
        grads = [torch.randn_like(p) for p in a]
        for params, opt in ((a, fast), (b, slow)):
            for p, g in zip(params, grads):
                p.grad = g.clone()
            opt.step()
    for p, q in zip(a, b):
        assert torch.allclose(p, q, atol=1e-6)
