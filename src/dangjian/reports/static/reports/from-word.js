// 从 Word 生成模板: a figure's colour follows its choice at once (yellow: an indicator, red: 待定, grey: 保留原文).
// The page is a plain form without this script; it only saves pressing 重新识别 to see the colours.
document.addEventListener("change", (event) => {
  const select = event.target;
  if (!(select instanceof HTMLSelectElement) || !select.name.startsWith("c-")) return;
  const slot = select.closest(".wi-slot");
  if (!slot) return;
  slot.classList.toggle("wi-pending", select.value === "pending");
  slot.classList.toggle("wi-literal", select.value === "literal");
});
