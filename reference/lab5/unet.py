"""Lab 5 - U-Net for singing-voice separation (instructor reference solution).

The architecture follows milesial/Pytorch-UNet (same module names, so the
``state_dict`` keys are fixed), with a configurable width ``base`` (64 in the
original paper / repository; the lab's trained checkpoint uses ``base=8``).

The network works on magnitude spectrograms shaped ``(batch, channels, freq,
time)`` and predicts a soft mask in [0, 1] for the vocals, following
Jansson et al., "Singing Voice Separation with Deep U-Net Convolutional
Networks" (ISMIR 2017): the vocal estimate is ``mask * X`` (applied to the
complex STFT, so the mixture phase is reused) and the loss is the mean L1
distance between ``mask * |X|`` and ``|V|``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["DoubleConv", "Down", "Up", "OutConv", "UNet", "separate", "train_step"]


class DoubleConv(nn.Module):
    """(convolution => [BN] => ReLU) * 2"""

    def __init__(self, in_channels, out_channels, mid_channels=None):
        super().__init__()
        if not mid_channels:
            mid_channels = out_channels
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(mid_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    """Downscaling with maxpool then double conv"""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.maxpool_conv = nn.Sequential(
            nn.MaxPool2d(2),
            DoubleConv(in_channels, out_channels),
        )

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    """Upscaling then double conv"""

    def __init__(self, in_channels, out_channels, bilinear=False):
        super().__init__()
        # if bilinear, use the normal convolutions to reduce the number of channels
        if bilinear:
            self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
            self.conv = DoubleConv(in_channels, out_channels, in_channels // 2)
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
            self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        # inputs are (batch, channels, H, W); pad x1 to the skip connection's size
        diffY = x2.size()[2] - x1.size()[2]
        diffX = x2.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2,
                        diffY // 2, diffY - diffY // 2])
        x = torch.cat([x2, x1], dim=1)
        return self.conv(x)


class OutConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1)

    def forward(self, x):
        return self.conv(x)


class UNet(nn.Module):
    """Four-level U-Net returning a sigmoid mask with the input's (freq, time) size.

    ``forward(x)`` takes ``x`` of shape ``(B, n_channels, F, T)`` with any
    ``F, T >= 1``.  Four 2x max-pools need sizes divisible by 16, so the input
    is zero-padded at the *end* of both axes up to the next multiple of 16,
    and the logits are cropped back to ``(F, T)`` before the sigmoid.

    Note on BatchNorm: in ``train()`` mode BatchNorm needs more than one
    value per channel.  A 1x1 input is padded to 16x16, which is 1x1 at the
    bottleneck, so ``UNet()(torch.zeros(1, 1, 1, 1))`` raises in train mode
    (batch 1) but works in ``eval()`` mode (running statistics are used).
    Any input of at least 17 frames or 17 bins, or batch >= 2, trains fine.
    """

    def __init__(self, n_channels=1, n_classes=1, base=64, bilinear=False):
        super().__init__()
        self.n_channels = n_channels
        self.n_classes = n_classes
        self.bilinear = bilinear
        b = base

        self.inc = DoubleConv(n_channels, b)
        self.down1 = Down(b, 2 * b)
        self.down2 = Down(2 * b, 4 * b)
        self.down3 = Down(4 * b, 8 * b)
        factor = 2 if bilinear else 1
        self.down4 = Down(8 * b, 16 * b // factor)
        self.up1 = Up(16 * b, 8 * b // factor, bilinear)
        self.up2 = Up(8 * b, 4 * b // factor, bilinear)
        self.up3 = Up(4 * b, 2 * b // factor, bilinear)
        self.up4 = Up(2 * b, b, bilinear)
        self.outc = OutConv(b, n_classes)

    def forward(self, x):
        n_freq, n_time = x.shape[-2], x.shape[-1]
        pad_f = (-n_freq) % 16
        pad_t = (-n_time) % 16
        x = F.pad(x, (0, pad_t, 0, pad_f))

        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x5 = self.down4(x4)
        x = self.up1(x5, x4)
        x = self.up2(x, x3)
        x = self.up3(x, x2)
        x = self.up4(x, x1)
        logits = self.outc(x)

        logits = logits[..., :n_freq, :n_time]
        return torch.sigmoid(logits)


def separate(model, audio, n_fft=2048, hop_length=512):
    """Split a mono signal into ``(vocals, accompaniment)`` with a soft mask.

    ``audio`` is a 1-D float32 or float64 NumPy array.  Both outputs are
    float32 NumPy arrays exactly ``len(audio)`` long, and
    ``vocals + accompaniment`` reconstructs ``audio`` (the two masks sum to 1
    and the inverse STFT is linear).  ``torch.stft(center=True)`` reflect-pads
    by ``n_fft // 2``, so ``audio`` must be longer than that (> 1024 samples
    with the defaults).
    """
    device = next(model.parameters()).device
    window = torch.hann_window(n_fft, device=device)
    x = torch.as_tensor(audio, dtype=torch.float32, device=device)
    X = torch.stft(x, n_fft, hop_length=hop_length, window=window,
                   center=True, return_complex=True)            # (freq, time), complex
    model.eval()
    with torch.no_grad():
        mask = model(X.abs()[None, None])[0, 0]                  # (freq, time), in [0, 1]
        vocals = torch.istft(mask * X, n_fft, hop_length=hop_length, window=window,
                             length=len(audio))
        accompaniment = torch.istft((1 - mask) * X, n_fft, hop_length=hop_length, window=window,
                                    length=len(audio))
    return (vocals.cpu().numpy().astype(np.float32),
            accompaniment.cpu().numpy().astype(np.float32))


def train_step(model, optimizer, mixture_mag, vocals_mag):
    """One optimisation step on a batch of magnitude spectrograms; returns the loss.

    ``mixture_mag`` and ``vocals_mag`` are ``(B, 1, F, T)`` tensors.  The loss
    is the mean L1 distance between the masked mixture and the vocals
    (Jansson et al. 2017).
    """
    model.train()
    optimizer.zero_grad()
    mask = model(mixture_mag)
    loss = F.l1_loss(mask * mixture_mag, vocals_mag)
    loss.backward()
    optimizer.step()
    return loss.item()
