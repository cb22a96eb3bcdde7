"""Generated "speech": spoken digits as tone patterns, and a NumPy spectrogram.

Each digit is rendered as a short sound made of two *formants* (sinusoids at two
frequencies, as vowels have), some of them gliding up or down, under a smooth amplitude
envelope. A speaker changes the pitch of every formant a little, each digit lasts a
random time, the pauses between digits vary (they can be very short, so repeated digits
run into each other) and noise is added. An utterance is a sequence of 1 to 5 digits.

The recogniser never sees where one digit ends and the next begins: it gets a
spectrogram and the digit string, which is exactly the setting CTC was made for.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

SAMPLE_RATE = 8000
#: (first formant start, end), (second formant start, end) in Hz for digits 0 to 9.
FORMANTS = [
    ((300, 300), (2300, 2300)),
    ((700, 700), (1200, 1200)),
    ((400, 400), (1800, 1800)),
    ((550, 550), (2600, 2600)),
    ((350, 650), (900, 900)),
    ((800, 500), (2000, 2000)),
    ((450, 450), (1000, 1600)),
    ((600, 600), (2800, 2200)),
    ((300, 500), (1400, 2400)),
    ((750, 400), (3000, 1800)),
]


class Utterances(NamedTuple):
    """A batch of generated utterances.

    Attributes
    ----------
    waves : list of N 1-d float arrays, the sound at ``SAMPLE_RATE`` samples per second.
    digits : list of N lists of ints in 0..9, what was said.
    spans : list of N lists of (start, end) sample indices, where each digit sounds.
    """

    waves: list[np.ndarray]
    digits: list[list[int]]
    spans: list[list[tuple[int, int]]]


def render_digit(digit: int, duration: float, rng: np.random.Generator,
                 pitch: float = 1.0) -> np.ndarray:
    """The sound of one digit: two (possibly gliding) formants under a smooth envelope.

    Parameters
    ----------
    digit : 0 to 9.
    duration : seconds.
    pitch : factor on every frequency (a speaker's voice).
    """
    if not 0 <= digit <= 9:
        raise ValueError(f"digit must be in 0..9; got {digit}")
    n = max(int(duration * SAMPLE_RATE), 8)
    s = np.linspace(0.0, 1.0, n)
    wave = np.zeros(n)
    for (f0, f1), amplitude in zip(FORMANTS[digit], (1.0, 0.6)):
        freq = pitch * (f0 + (f1 - f0) * s) * rng.uniform(0.97, 1.03)
        phase = 2 * np.pi * np.cumsum(freq) / SAMPLE_RATE + rng.uniform(0, 2 * np.pi)
        wave += amplitude * np.sin(phase)
    return wave * np.sin(np.pi * s) ** 0.5  # fade in and out


def make_utterances(n: int, rng: np.random.Generator, min_digits: int = 1,
                    max_digits: int = 5, noise: float = 0.3) -> Utterances:
    """``n`` random utterances of ``min_digits`` to ``max_digits`` digits each.

    Each digit lasts 0.10 to 0.22 s, pauses last 0.01 to 0.12 s, a speaker's pitch factor
    is drawn from [0.9, 1.1], and white noise of standard deviation ``noise`` is added
    (the digits have amplitude about 1).
    """
    if not 1 <= min_digits <= max_digits:
        raise ValueError(f"expected 1 <= min_digits <= max_digits; got {min_digits}, "
                         f"{max_digits}")
    waves, digits, spans = [], [], []
    for _ in range(n):
        said = rng.integers(0, 10, size=rng.integers(min_digits, max_digits + 1)).tolist()
        pitch = rng.uniform(0.9, 1.1)
        pieces = [np.zeros(int(rng.uniform(0.02, 0.1) * SAMPLE_RATE))]
        where, start = [], len(pieces[0])
        for d in said:
            sound = render_digit(d, rng.uniform(0.10, 0.22), rng, pitch)
            where.append((start, start + len(sound)))
            gap = np.zeros(int(rng.uniform(0.01, 0.12) * SAMPLE_RATE))
            pieces += [sound, gap]
            start += len(sound) + len(gap)
        wave = np.concatenate(pieces)
        waves.append(wave + noise * rng.standard_normal(wave.shape))
        digits.append(said)
        spans.append(where)
    return Utterances(waves, digits, spans)


def spectrogram(wave: np.ndarray, n_fft: int = 256, hop: int = 256,
                bands: int = 32) -> np.ndarray:
    """Log-power spectrogram with a Hann window, pooled into ``bands`` frequency bands.

    Parameters
    ----------
    wave : (L,) the sound; shorter than ``n_fft`` is padded with zeros.
    n_fft : window length in samples (32 ms at 8 kHz).
    hop : samples between the starts of consecutive windows (32 ms: no overlap).
    bands : number of equal-width frequency bands the ``n_fft // 2`` bins are averaged into.

    Returns
    -------
    spec : (F, bands) with ``F = 1 + (L - n_fft) // hop`` frames,
        ``spec[f, k] = log(1e-3 + mean of |STFT|^2 / n_fft over band k of frame f)``.

    Notes
    -----
    Frame ``f`` is ``wave[f * hop : f * hop + n_fft] * hann``; its discrete Fourier
    transform (``np.fft.rfft``) gives ``n_fft // 2 + 1`` bins from 0 Hz to the Nyquist
    frequency; the last bin is dropped before pooling.
    """
    wave = np.asarray(wave, dtype=np.float64)
    if wave.ndim != 1:
        raise ValueError(f"wave has shape {wave.shape}; expected (L,)")
    if (n_fft // 2) % bands:
        raise ValueError(f"bands={bands} must divide n_fft // 2 = {n_fft // 2}")
    if len(wave) < n_fft:
        wave = np.pad(wave, (0, n_fft - len(wave)))
    frames = 1 + (len(wave) - n_fft) // hop
    index = hop * np.arange(frames)[:, None] + np.arange(n_fft)
    power = np.abs(np.fft.rfft(wave[index] * np.hanning(n_fft), axis=1)) ** 2 / n_fft
    pooled = power[:, : n_fft // 2].reshape(frames, bands, -1).mean(axis=2)
    return np.log(1e-3 + pooled)


def features(waves: list[np.ndarray], **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """Spectrograms of ``waves``, normalised per band, padded into one array.

    Returns
    -------
    x : (N, F, bands) float32, zero after each utterance's last frame.
    lengths : (N,) int64, the number of frames of each utterance.
    """
    specs = [spectrogram(w, **kwargs) for w in waves]
    lengths = np.array([len(s) for s in specs], dtype=np.int64)
    x = np.zeros((len(specs), lengths.max(), specs[0].shape[1]), dtype=np.float32)
    for n, s in enumerate(specs):
        x[n, : len(s)] = (s - s.mean(0)) / (s.std(0) + 1e-5)
    return x, lengths
