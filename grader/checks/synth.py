"""Synthetic "songs" for Lab 5 (source separation), trusted grader code.

Everything here is pure NumPy and deterministic: the same ``seed`` always
gives bit-identical arrays, so the grader and the training script
(``scripts/train_lab5.py``) can regenerate the exact same data without any
audio files.

* :func:`voice` - a harmonic "singing voice": notes with fundamentals in
  150-500 Hz, 5-6 Hz vibrato, decaying harmonics, note on/off envelopes
  with short gaps between notes.
* :func:`accompaniment` - sustained harmonic chords in a lower register
  plus a drum kit made of decaying noise bursts / pitch-swept kicks.
* :func:`mixture` - vocals + accompaniment for one seed, peak-normalised.
* :func:`sdr_improvement` - SDR(estimate) - SDR(mixture) for the vocals,
  using ``mir_eval`` (imported lazily, so importing this module only
  needs NumPy).
"""

from __future__ import annotations

import numpy as np

__all__ = ["voice", "accompaniment", "mixture", "sdr", "sdr_improvement"]

_TWO_PI = 2.0 * np.pi


def _midi_to_hz(m):
    return 440.0 * 2.0 ** ((np.asarray(m, dtype=np.float64) - 69.0) / 12.0)


def _n_samples(seconds: float, sr: int) -> int:
    n = int(round(float(seconds) * int(sr)))
    if n < 1:
        raise ValueError(f"need at least one sample, got seconds={seconds}, sr={sr}")
    return n


def _ramp_envelope(length: int, attack: int, release: int) -> np.ndarray:
    """Raised-cosine attack, flat sustain, raised-cosine release."""
    env = np.ones(length)
    a = min(attack, length // 2)
    r = min(release, length - a)
    if a > 0:
        env[:a] = 0.5 - 0.5 * np.cos(np.pi * np.arange(a) / a)
    if r > 0:
        env[length - r:] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(1, r + 1) / r)
    return env


def voice(seconds: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A harmonic "singing voice" (float64, unnormalised).

    A melody of notes (MIDI 51-71, i.e. fundamentals ~156-494 Hz) moving by
    small intervals; each note lasts 0.25-0.7 s and is followed by a
    0.03-0.12 s gap.  Every note has its own vibrato (5-6 Hz, 0.25-0.6
    semitone depth), a short pitch glide into the note, a smooth
    attack/release envelope and a loudness.  The timbre is a sum of up to
    16 harmonics with amplitudes ``k ** -rolloff`` times a formant-like bump,
    and harmonics above 0.45 * sr are dropped (no aliasing).
    """
    n = _n_samples(seconds, sr)
    t_total = n / sr

    f_inst = np.full(n, _midi_to_hz(60))
    env = np.zeros(n)

    pitch = int(rng.integers(55, 68))
    t = float(rng.uniform(0.0, 0.15))          # first onset
    while t < t_total:
        dur = float(rng.uniform(0.25, 0.7))
        gap = float(rng.uniform(0.03, 0.12))
        step = int(rng.choice([-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5]))
        pitch = int(np.clip(pitch + step, 51, 71))
        vib_rate = float(rng.uniform(5.0, 6.0))
        vib_depth = float(rng.uniform(0.25, 0.6))      # semitones
        vib_phase = float(rng.uniform(0.0, _TWO_PI))
        glide = float(rng.uniform(-0.8, 0.8))          # semitones at onset
        loud = float(rng.uniform(0.6, 1.0))

        i0 = int(round(t * sr))
        i1 = min(n, int(round((t + dur) * sr)))
        if i1 > i0:
            tt = np.arange(i1 - i0) / sr
            # vibrato fades in over the first ~150 ms, as singers do
            vib = vib_depth * np.minimum(1.0, tt / 0.15) * np.sin(_TWO_PI * vib_rate * tt + vib_phase)
            semis = pitch + vib + glide * np.exp(-tt / 0.04)
            f_inst[i0:i1] = _midi_to_hz(semis)
            env[i0:i1] = loud * _ramp_envelope(i1 - i0, int(0.03 * sr), int(0.05 * sr))
        t += dur + gap

    phase = _TWO_PI * np.cumsum(f_inst) / sr
    n_harm = 16
    rolloff = float(rng.uniform(0.8, 1.4))
    formant_hz = float(rng.uniform(700.0, 1400.0))
    k = np.arange(1, n_harm + 1)
    amps = k ** -rolloff
    out = np.zeros(n)
    for kk, a in zip(k, amps):
        fk = kk * f_inst
        # formant bump around formant_hz, evaluated at the partial's frequency
        gain = a * (1.0 + 1.5 * np.exp(-0.5 * ((fk - formant_hz) / 300.0) ** 2))
        gain = np.where(fk < 0.45 * sr, gain, 0.0)
        out += gain * np.sin(kk * phase)
    return out * env


def _tone(f0: float, length: int, sr: int, rng: np.random.Generator, n_harm: int, rolloff: float,
          decay_s: float) -> np.ndarray:
    """A sustained harmonic tone with exponential decay and smooth edges."""
    tt = np.arange(length) / sr
    detune = 2.0 ** (float(rng.uniform(-0.08, 0.08)) / 12.0)
    f0 = f0 * detune
    out = np.zeros(length)
    for k in range(1, n_harm + 1):
        if k * f0 >= 0.45 * sr:
            break
        ph = float(rng.uniform(0.0, _TWO_PI))
        # higher partials die away faster (piano / guitar-like)
        out += k ** -rolloff * np.exp(-tt * k / (4.0 * decay_s)) * np.sin(_TWO_PI * k * f0 * tt + ph)
    return out * np.exp(-tt / decay_s) * _ramp_envelope(length, int(0.01 * sr), int(0.04 * sr))


def _drums(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Kick (pitch-swept sine), snare (noise + body) and hi-hat (high-passed noise) on a beat grid."""
    bpm = float(rng.uniform(85.0, 140.0))
    beat = 60.0 / bpm
    out = np.zeros(n)
    offset = float(rng.uniform(0.0, beat))
    n_eighths = int(np.ceil((n / sr - offset) / (beat / 2))) + 1

    def add(burst, start):
        i0 = int(round(start * sr))
        if i0 >= n:
            return
        m = min(len(burst), n - i0)
        out[i0:i0 + m] += burst[:m]

    kick_len = int(0.25 * sr)
    tk = np.arange(kick_len) / sr
    kick_f = 45.0 + 90.0 * np.exp(-tk / 0.03)
    kick = np.sin(_TWO_PI * np.cumsum(kick_f) / sr) * np.exp(-tk / 0.09)
    snare_len = int(0.2 * sr)
    ts = np.arange(snare_len) / sr
    hat_len = int(0.06 * sr)
    th = np.arange(hat_len) / sr

    for e in range(n_eighths):
        start = offset + e * beat / 2
        pos = e % 8                      # eighth-note position in a 4/4 bar
        if pos in (0, 4) or (pos == 5 and rng.random() < 0.3):
            add(float(rng.uniform(0.8, 1.0)) * kick, start)
        if pos in (2, 6):
            noise = rng.standard_normal(snare_len)
            body = np.sin(_TWO_PI * 190.0 * ts)
            snare = (0.5 * noise * np.exp(-ts / 0.06) + 0.4 * body * np.exp(-ts / 0.04))
            add(float(rng.uniform(0.6, 0.9)) * snare, start)
        if rng.random() < 0.85:
            noise = rng.standard_normal(hat_len + 1)
            hat = np.diff(noise) * np.exp(-th / 0.015)          # first difference = crude high-pass
            add(float(rng.uniform(0.15, 0.3)) * hat, start)
    return out


def accompaniment(seconds: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Chords in a low register plus drums (float64, unnormalised).

    Chords (major / minor / 7th, root MIDI 36-50, i.e. ~65-147 Hz, with a bass
    note an octave below the root) change every 0.5-1.5 s; each tone decays
    slowly with duller high partials.  Drums are kick / snare / hi-hat bursts
    on an eighth-note grid at 85-140 BPM.
    """
    n = _n_samples(seconds, sr)
    t_total = n / sr
    chords = np.zeros(n)
    qualities = ([0, 4, 7], [0, 3, 7], [0, 4, 7, 10], [0, 3, 7, 10])
    t = 0.0
    while t < t_total:
        dur = float(rng.uniform(0.5, 1.5))
        root = int(rng.integers(36, 51))
        quality = qualities[int(rng.integers(len(qualities)))]
        notes = [root - 12] + [root + iv for iv in quality]
        decay = float(rng.uniform(1.0, 3.0))
        i0 = int(round(t * sr))
        i1 = min(n, int(round((t + dur) * sr)))
        if i1 > i0:
            for m in notes:
                chords[i0:i1] += float(rng.uniform(0.5, 1.0)) * _tone(
                    float(_midi_to_hz(m)), i1 - i0, sr, rng, n_harm=10, rolloff=1.2, decay_s=decay)
        t += dur

    drums = _drums(n, sr, rng)
    chords /= np.sqrt(np.mean(chords ** 2)) + 1e-12
    drums /= np.sqrt(np.mean(drums ** 2)) + 1e-12
    drum_gain = 10.0 ** (float(rng.uniform(-6.0, 0.0)) / 20.0)
    return chords + drum_gain * drums


def mixture(seed: int, seconds: float = 3.0, sr: int = 22050):
    """``(mix, vocals, accompaniment)`` float32 arrays of ``round(seconds * sr)`` samples.

    The stems are RMS-balanced with a vocal-to-accompaniment ratio drawn
    uniformly from [-3, +3] dB, then both are scaled by the same factor so
    that ``max |mix| <= 0.9``.  ``mix`` is exactly ``vocals + accompaniment``
    (computed in float32).  Deterministic for a given ``seed``.
    """
    rng = np.random.default_rng(seed)
    v = voice(seconds, sr, rng)
    a = accompaniment(seconds, sr, rng)
    v /= np.sqrt(np.mean(v ** 2)) + 1e-12
    a /= np.sqrt(np.mean(a ** 2)) + 1e-12
    v *= 10.0 ** (float(rng.uniform(-3.0, 3.0)) / 20.0)
    peak = float(np.max(np.abs(v + a)))
    scale = 0.9 / peak * (1.0 - 1e-6) if peak > 0 else 1.0
    vocals = (v * scale).astype(np.float32)
    accomp = (a * scale).astype(np.float32)
    mix = vocals + accomp
    peak32 = float(np.max(np.abs(mix)))
    if peak32 > 0.9:                      # guard against float32 rounding (practically never hit)
        fix = np.float32(0.9 / peak32 * (1.0 - 1e-6))
        vocals, accomp = vocals * fix, accomp * fix
        mix = vocals + accomp
    return mix, vocals, accomp


def sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """BSS-Eval SDR (dB) of a mono ``estimate`` of a mono ``reference`` (mir_eval)."""
    import warnings

    from mir_eval.separation import bss_eval_sources  # lazy: only the evaluation needs mir_eval

    ref = np.asarray(reference, dtype=np.float64).reshape(1, -1)
    est = np.asarray(estimate, dtype=np.float64).reshape(1, -1)
    if ref.shape != est.shape:
        raise ValueError(f"reference and estimate lengths differ: {ref.shape[1]} vs {est.shape[1]}")
    with warnings.catch_warnings():
        # mir_eval 0.8 marks bss_eval_sources as deprecated (FutureWarning); it is still the
        # standard BSS-Eval v3 metric, so keep using it without polluting the test output.
        warnings.simplefilter("ignore", FutureWarning)
        sdr_values, _sir, _sar, _perm = bss_eval_sources(ref, est, compute_permutation=False)
    return float(sdr_values[0])


def sdr_improvement(est_vocals: np.ndarray, vocals: np.ndarray, mix: np.ndarray) -> float:
    """SDR of ``est_vocals`` minus SDR of the unprocessed ``mix``, both against ``vocals`` (dB).

    0 dB means "no better than returning the mixture"; an all-zero estimate
    makes mir_eval raise, so callers should expect a ``ValueError`` there.
    """
    return sdr(vocals, est_vocals) - sdr(vocals, mix)
