"""Lab 5 - U-Net for singing-voice separation (student version).

You will build the U-Net of Jansson et al., "Singing Voice Separation with
Deep U-Net Convolutional Networks" (ISMIR 2017), in the layout of
milesial/Pytorch-UNet, and use it to split a song into vocals and
accompaniment.

The idea in one line: the network looks at the *magnitude* spectrogram
``|X|`` of the mixture and predicts a soft mask ``M`` in [0, 1] of the same
size; the vocals are ``M * X`` and the accompaniment is ``(1 - M) * X``
(applied to the *complex* STFT, so the mixture phase is reused), turned back
into audio with the inverse STFT.

What is already done for you: every ``__init__``.  Do NOT rename, add or
remove layers - the grader loads trained weights into your model with
``load_state_dict(strict=True)``, so the parameter names must stay exactly
as they are.

What you implement (search for ``NotImplementedError``):

1. ``forward`` of ``DoubleConv``, ``Down``, ``Up``, ``OutConv`` and ``UNet``;
2. ``separate(model, audio)`` - audio in, (vocals, accompaniment) out;
3. ``train_step(model, optimizer, mixture_mag, vocals_mag)`` - one step of
   gradient descent.

Shapes: U-Net expects ``(batch, channels, freq, time)``.  A single mono
spectrogram from ``torch.stft`` is ``(freq, time)``, so add two leading axes.
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
        # TODO: apply the two conv-BN-ReLU blocks (hint: they are already one nn.Sequential).
        raise NotImplementedError("DoubleConv.forward: run x through self.double_conv")


class Down(nn.Module):
    """Downscaling with maxpool then double conv"""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.maxpool_conv = nn.Sequential(
            nn.MaxPool2d(2),
            DoubleConv(in_channels, out_channels),
        )

    def forward(self, x):
        # TODO: halve freq and time with the max-pool, then DoubleConv (both live in self.maxpool_conv).
        raise NotImplementedError("Down.forward: run x through self.maxpool_conv")


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
        # x1: the deeper, coarser feature map coming up the decoder.
        # x2: the skip connection from the encoder at this resolution.
        # TODO:
        #   1. upsample x1 with self.up (doubles freq and time);
        #   2. if x1 is now smaller than x2, zero-pad it with F.pad so the sizes match
        #      (diffY = x2 rows - x1 rows, diffX = x2 cols - x1 cols; put diff // 2 before
        #      and diff - diff // 2 after; F.pad lists the LAST axis first:
        #      [left, right, top, bottom]);
        #   3. skip connection: concatenate [x2, x1] along the channel axis (dim=1) -
        #      in that order, the trained weights expect it;
        #   4. run the result through self.conv.
        raise NotImplementedError("Up.forward: up-sample, pad, concatenate the skip connection, conv")


class OutConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1)

    def forward(self, x):
        # TODO: a 1x1 convolution maps the feature channels to n_classes logits.
        raise NotImplementedError("OutConv.forward: apply self.conv")


class UNet(nn.Module):
    """Four-level U-Net returning a sigmoid mask with the input's (freq, time) size.

    Note on BatchNorm: in ``train()`` mode BatchNorm needs more than one value
    per channel.  A 1x1 input is padded to 16x16, which is 1x1 at the
    bottleneck, so a batch of one 1x1 input only works in ``eval()`` mode.
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
        # x: (batch, n_channels, freq, time) with ANY freq, time >= 1.
        # Return: a mask in [0, 1] of shape (batch, n_classes, freq, time).
        # TODO:
        #   1. Four 2x max-pools need sizes divisible by 16: pad to a multiple of 16.
        #      Zero-pad at the END of both axes: F.pad(x, (0, pad_t, 0, pad_f)).
        #      Remember the original freq/time sizes first.
        #   2. Encoder: x1 = inc(x), x2 = down1(x1), ..., x5 = down4(x4).
        #   3. Decoder with skip connections: up1(x5, x4), up2(., x3), up3(., x2), up4(., x1).
        #   4. logits = outc(...); crop them back to the original (freq, time).
        #   5. Return torch.sigmoid(logits).
        raise NotImplementedError("UNet.forward: pad to a multiple of 16, encoder, decoder with skips, crop, sigmoid")


def separate(model, audio, n_fft=2048, hop_length=512):
    """Split a mono signal into ``(vocals, accompaniment)`` with the model's mask.

    ``audio`` is a 1-D float NumPy array, float32 or float64 (the model's
    weights are float32, so convert it).  Returns two float32 NumPy arrays,
    each exactly ``len(audio)`` long.
    """
    # TODO:
    #   * Work on the model's device: device = next(model.parameters()).device
    #   * window = torch.hann_window(n_fft, device=device)
    #   * X = torch.stft(<audio as a float32 tensor on device>, n_fft, hop_length=hop_length,
    #                    window=window, center=True, return_complex=True)    -> (freq, time)
    #   * Put the model in eval mode and use torch.no_grad().
    #   * U-Net expects (batch, channels, freq, time): feed |X| with two new leading axes,
    #     take [0, 0] of the output to get the (freq, time) mask.
    #   * vocals = inverse STFT of mask · X; accompaniment = inverse STFT of (1 - mask) · X.
    #     torch.istft(..., n_fft, hop_length=hop_length, window=window, length=len(audio))
    #     (length= makes the output exactly as long as the input).
    #   * Return NumPy float32 arrays (.cpu().numpy().astype(np.float32)).
    raise NotImplementedError("separate: STFT -> mask from |X| -> mask · X -> inverse STFT")


def train_step(model, optimizer, mixture_mag, vocals_mag):
    """One optimisation step; returns the loss as a Python float.

    ``mixture_mag`` and ``vocals_mag`` are ``(batch, 1, freq, time)`` magnitude
    spectrograms.  Loss: mean L1 distance between ``mask * mixture_mag`` and
    ``vocals_mag`` (Jansson et al. 2017).
    """
    # TODO: model.train(); then
    #   optimizer.zero_grad() → forward (mask = model(mixture_mag)) → loss (F.l1_loss)
    #   → loss.backward() → optimizer.step(); return loss.item()
    raise NotImplementedError("train_step: zero_grad → forward → L1 loss → backward → step")
