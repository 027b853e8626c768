#!/usr/bin/env python
"""Train the Lab 5 reference U-Net (base=8) on synthetic songs and evaluate it.

Data: ``grader.checks.synth.mixture(seed)`` for training seeds ``0..n_train-1``
(3 s mono at 22050 Hz); magnitude spectrograms use exactly the STFT that
``separate`` uses (Hann window, n_fft=2048, hop_length=512, center=True).
Training: random time crops of ``crop_frames`` STFT frames, Adam, mean L1 loss
of ``mask * |X|`` against ``|V|`` via the reference ``train_step``.
Evaluation: ``separate`` on held-out seeds ``eval_start..eval_start+n_eval-1``
and ``grader.checks.synth.sdr_improvement`` (mir_eval BSS-Eval SDR of the estimated
vocals minus SDR of the mixture).

Writes ``<out>`` (a ``state_dict`` saved with ``torch.save``) and
``<out>`` with the suffix ``.json`` (seed, settings, losses, SDR results).

Reproduce the checked-in weights (CPU, one thread) with::

    python scripts/train_lab5.py --seed 0 --steps 1500 --out reference/lab5/unet_base8.pt
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=0, help="torch / crop-sampling seed")
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--out", type=Path, default=ROOT / "reference/lab5/unet_base8.pt")
    p.add_argument("--base", type=int, default=8)
    p.add_argument("--n-train", type=int, default=256, help="training mixtures: seeds 0..n_train-1")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--crop-frames", type=int, default=64, help="time crop in STFT frames (0 = whole clip)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--schedule", choices=["cosine", "constant"], default="cosine")
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--sr", type=int, default=22050)
    p.add_argument("--n-fft", type=int, default=2048)
    p.add_argument("--hop-length", type=int, default=512)
    p.add_argument("--eval-start", type=int, default=10_000)
    p.add_argument("--n-eval", type=int, default=10)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--log-every", type=int, default=50)
    return p.parse_args(argv)


def magnitudes(synth, seeds, seconds, sr, n_fft, hop_length):
    """(N, 1, F, T) float32 tensors of |STFT(mix)| and |STFT(vocals)|."""
    window = torch.hann_window(n_fft)
    mixes, vocs = [], []
    for seed in seeds:
        mix, vocals, _ = synth.mixture(seed, seconds=seconds, sr=sr)
        for sig, dst in ((mix, mixes), (vocals, vocs)):
            X = torch.stft(torch.as_tensor(sig), n_fft, hop_length=hop_length, window=window,
                           center=True, return_complex=True)
            dst.append(X.abs())
    return torch.stack(mixes)[:, None], torch.stack(vocs)[:, None]


def evaluate(unet_mod, synth, model, seeds, seconds, sr, n_fft, hop_length):
    rows = []
    for seed in seeds:
        mix, vocals, _ = synth.mixture(seed, seconds=seconds, sr=sr)
        est_vocals, _ = unet_mod.separate(model, mix, n_fft=n_fft, hop_length=hop_length)
        sdr_est = synth.sdr(vocals, est_vocals)
        sdr_mix = synth.sdr(vocals, mix)
        rows.append({"seed": int(seed), "sdr_vocals": sdr_est, "sdr_mixture": sdr_mix,
                     "sdr_improvement": sdr_est - sdr_mix})
    return rows


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    unet_mod = _load(ROOT / "reference/lab5/unet.py", "lab5_reference_unet")
    synth = _load(ROOT / "grader/checks/synth.py", "lab5_grader_synth")

    t0 = time.perf_counter()
    mix_mag, voc_mag = magnitudes(synth, range(args.n_train), args.seconds, args.sr,
                                  args.n_fft, args.hop_length)
    n_clips, _, n_freq, n_frames = mix_mag.shape
    print(f"data: {n_clips} clips, spectrogram {n_freq}x{n_frames}, "
          f"{time.perf_counter() - t0:.1f} s", flush=True)

    model = unet_mod.UNet(n_channels=1, n_classes=1, base=args.base, bilinear=False)
    n_params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.steps)
                 if args.schedule == "cosine" else None)
    crop = args.crop_frames if 0 < args.crop_frames < n_frames else n_frames

    losses = []
    t_train = time.perf_counter()
    for step in range(1, args.steps + 1):
        idx = rng.integers(0, n_clips, size=args.batch_size)
        starts = rng.integers(0, n_frames - crop + 1, size=args.batch_size)
        xb = torch.stack([mix_mag[i, :, :, s:s + crop] for i, s in zip(idx, starts)])
        vb = torch.stack([voc_mag[i, :, :, s:s + crop] for i, s in zip(idx, starts)])
        losses.append(unet_mod.train_step(model, optimizer, xb, vb))
        if scheduler is not None:
            scheduler.step()
        if step % args.log_every == 0 or step == args.steps:
            recent = float(np.mean(losses[-args.log_every:]))
            print(f"step {step:5d}  loss {losses[-1]:.4f}  mean(last {args.log_every}) {recent:.4f}  "
                  f"lr {optimizer.param_groups[0]['lr']:.2e}  {time.perf_counter() - t_train:.0f} s",
                  flush=True)
    train_seconds = time.perf_counter() - t_train

    model.eval()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), args.out)

    t_eval = time.perf_counter()
    rows = evaluate(unet_mod, synth, model, range(args.eval_start, args.eval_start + args.n_eval),
                    args.seconds, args.sr, args.n_fft, args.hop_length)
    mean_impr = float(np.mean([r["sdr_improvement"] for r in rows]))
    for r in rows:
        print(f"eval seed {r['seed']}: SDR vocals {r['sdr_vocals']:6.2f} dB, mixture "
              f"{r['sdr_mixture']:6.2f} dB, improvement {r['sdr_improvement']:6.2f} dB")
    print(f"mean SDR improvement: {mean_impr:.2f} dB  (eval {time.perf_counter() - t_eval:.0f} s)")

    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    settings["out"] = str(Path(settings["out"]).resolve().relative_to(ROOT)) \
        if Path(settings["out"]).resolve().is_relative_to(ROOT) else settings["out"]
    meta = {
        "model": {"class": "UNet", "n_channels": 1, "n_classes": 1, "base": args.base,
                  "bilinear": False, "n_params": n_params},
        "seed": args.seed,
        "settings": settings,
        "train_seeds": [0, args.n_train - 1],
        "loss": "mean L1 of mask*|X| vs |V| (STFT magnitudes, Hann, center=True)",
        "final_loss": losses[-1],
        "final_loss_mean_last_100": float(np.mean(losses[-100:])),
        "train_seconds": round(train_seconds, 1),
        "eval": rows,
        "mean_sdr_improvement_db": mean_impr,
        "state_dict_bytes": args.out.stat().st_size,
        "command": "python scripts/train_lab5.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "numpy": np.__version__},
    }
    json_path = args.out.with_suffix(".json")
    json_path.write_text(json.dumps(meta, indent=2) + "\n")
    print(f"saved {args.out} ({meta['state_dict_bytes']} bytes) and {json_path}")
    return meta


if __name__ == "__main__":
    main()
