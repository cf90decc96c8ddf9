"""Generation settings: resolution, aspect ratio, watermark, and the seconds and dollars they cost."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.ui.edit_commands import ChangeSettingCommand
from kling_studio.ui.queue_format import LOCAL_COST
from kling_studio.ui.storyboard_document import StoryboardDocument
from kling_studio.ui.widgets import Card, set_style_name

WATERMARK_CHOICES: tuple[tuple[str, bool | None], ...] = (("Default (not sent)", None), ("On", True), ("Off", False))
RATIO_LOCKED_TIP = "A first frame is attached: the video follows the image's aspect ratio. Remove it to choose one."


def _figure(caption: str) -> tuple[QWidget, QLabel]:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    value = QLabel()
    value.setObjectName("bigFigure")
    label = QLabel(caption)
    label.setObjectName("hint")
    layout.addWidget(value)
    layout.addWidget(label)
    value.setAccessibleName(caption)
    return box, value


class GenerationPanel(Card):
    def __init__(self, document: StoryboardDocument, parent: QWidget | None = None) -> None:
        self.mode_badge = QLabel()
        self.mode_badge.setObjectName("modeBadge")
        self.mode_badge.setAccessibleName("Generation mode")
        super().__init__("Generation", parent, trailing=self.mode_badge)
        self.document = document
        self._updating = False
        self._local = False  # new jobs go to the free local preview server
        self._build_ui()
        self._connect()
        self._sync()

    def _build_ui(self) -> None:
        self.resolution = QComboBox()
        self.resolution.setAccessibleName("Resolution")
        for res in KLING_3_TURBO.resolutions:
            self.resolution.addItem(res, res)
        self.aspect_ratio = QComboBox()
        self.aspect_ratio.setAccessibleName("Aspect ratio")
        for ratio in KLING_3_TURBO.aspect_ratios:
            self.aspect_ratio.addItem(ratio, ratio)
        self.watermark = QComboBox()
        self.watermark.setAccessibleName("Watermark")
        for choice, value in WATERMARK_CHOICES:
            self.watermark.addItem(choice, value)
        # Three labelled pickers side by side: the card stays short enough for small screens.
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(3)
        for column, (text, combo) in enumerate(
            (("Resolution", self.resolution), ("Aspect ratio", self.aspect_ratio), ("Watermark", self.watermark))
        ):
            caption = QLabel(text)
            caption.setObjectName("hint")
            caption.setBuddy(combo)
            grid.addWidget(caption, 0, column)
            grid.addWidget(combo, 1, column)
            grid.setColumnStretch(column, 2 if combo is self.watermark else 1)
        self.body.addLayout(grid)

        figures = QHBoxLayout()
        figures.setSpacing(24)
        box, self.total_label = _figure("total seconds")
        figures.addWidget(box)
        box, self.cost_label = _figure("estimated cost")
        figures.addWidget(box)
        box, self.size_label = _figure("output size")
        figures.addWidget(box)
        figures.addStretch(1)
        self.body.addSpacing(2)
        self.body.addLayout(figures)

    def _connect(self) -> None:
        self.resolution.currentIndexChanged.connect(lambda _i: self._changed("resolution", self.resolution))
        self.aspect_ratio.currentIndexChanged.connect(lambda _i: self._changed("aspect_ratio", self.aspect_ratio))
        self.watermark.currentIndexChanged.connect(lambda _i: self._changed("watermark", self.watermark))
        self.document.changed.connect(self._sync)

    def set_local_backend(self, local: bool) -> None:
        """Local mode shows the estimate as $0.00 (local): nothing is billed."""
        if local != self._local:
            self._local = local
            self._sync()

    def _changed(self, name: str, combo: QComboBox) -> None:
        if self._updating:
            return
        value: Any = combo.currentData()
        if getattr(self.document.storyboard.settings, name) != value:
            self.document.push(ChangeSettingCommand(self.document, name, value))

    def _sync(self) -> None:
        storyboard = self.document.storyboard
        settings = storyboard.settings
        compiled = self.document.compiled
        self._updating = True
        try:
            for combo, value in (
                (self.resolution, settings.resolution),
                (self.aspect_ratio, settings.aspect_ratio),
                (self.watermark, settings.watermark),
            ):
                i = combo.findData(value)
                if i >= 0 and combo.currentIndex() != i:
                    combo.setCurrentIndex(i)
        finally:
            self._updating = False
        has_image = storyboard.first_frame is not None
        self.aspect_ratio.setEnabled(not has_image)
        self.aspect_ratio.setToolTip(RATIO_LOCKED_TIP if has_image else "Shape of the video (text-to-video only)")
        self.mode_badge.setText("Image → video" if has_image else "Text → video")
        total = storyboard.total_duration
        profile = KLING_3_TURBO
        self.total_label.setText(f"{total} s")
        ok = profile.min_total_seconds <= total <= profile.max_total_seconds
        set_style_name(self.total_label, "bigFigure" if ok else "bigFigureError")
        self.total_label.setToolTip(f"Allowed {profile.total_range_text()}")
        cost = compiled.estimated_cost_usd
        if self._local:
            self.cost_label.setText(LOCAL_COST)
            paid = "" if cost is None else f" With Kling 3.0 Turbo it would cost about ${cost:.2f}."
            self.cost_label.setToolTip(f"The local preview renders animatics on this computer: free.{paid}")
        else:
            self.cost_label.setText("—" if cost is None else f"${cost:.2f}")
            self.cost_label.setToolTip("Billed by the requested duration; failed tasks are not billed.")
        if has_image:
            self.size_label.setText("follows image")
        else:
            key = (settings.resolution, settings.aspect_ratio)
            size = profile.output_sizes.get(key)
            self.size_label.setText(f"{size[0]}×{size[1]}" if size else "—")
