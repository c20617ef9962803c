// Texts of the wallboard in Thai (first) and English, and Thai-style dates.
// Dates use the Buddhist-era calendar in Thai (29 พ.ย. 2569); the clock is Bangkok's.

export const TZ = "Asia/Bangkok";

const TEXTS = {
  th: {
    title: "กระดานสายด่วน",
    subtitle: "สถานะคิวแบบทันที",
    login_title: "เข้าสู่ระบบกระดานสายด่วน",
    login_help: "วางโทเค็น API ที่ได้รับจากผู้ดูแลระบบ (ivr tokens create)",
    token: "โทเค็น",
    login: "เข้าสู่ระบบ",
    logout: "ออกจากระบบ",
    lang_switch: "English",
    live: "เชื่อมต่อแล้ว",
    connecting: "กำลังเชื่อมต่อ…",
    reconnecting: "ขาดการเชื่อมต่อ ลองใหม่ใน {s} วินาที",
    waiting: "สายรอ",
    longest: "รอนานสุด",
    est_wait: "คาดว่ารอ",
    agents: "เจ้าหน้าที่",
    callers: "ผู้โทรตามลำดับ",
    no_callers: "ไม่มีสายรอ",
    callbacks: "โทรกลับ",
    no_callbacks: "ไม่มีคำขอโทรกลับ",
    today: "วันนี้",
    offered: "สายเข้า",
    answered: "รับสาย",
    service_level: "ระดับบริการ",
    sl_rule: "รับภายใน {s} วิ เป้า {p}",
    abandoned: "วางสาย",
    short_abandoned: "วางเร็ว",
    asa: "รอเฉลี่ย",
    aht: "คุยเฉลี่ย",
    callbacks_failed: "โทรกลับไม่สำเร็จ",
    more: "และอีก {n} สาย",
    place: "ลำดับ",
    pause: "พัก",
    unpause: "เลิกพัก",
    cancel_cb: "ยกเลิก",
    confirm: "ยืนยัน",
    close: "ปิด",
    reason: "เหตุผล",
    all_queues: "ทุกคิวของเจ้าหน้าที่",
    confirm_pause: "พักเจ้าหน้าที่ {a} ในคิว {q}?",
    confirm_unpause: "ให้เจ้าหน้าที่ {a} กลับมารับสายในคิว {q}?",
    confirm_cancel: "ยกเลิกคำขอโทรกลับ {n} ในคิว {q}?",
    confirm_emergency: "ตั้งประกาศฉุกเฉินของสายด่วน {h}?",
    confirm_clear: "ยกเลิกประกาศฉุกเฉินของสายด่วน {h}?",
    done: "เรียบร้อย",
    hotlines: "สายด่วน",
    open: "เปิดให้บริการ",
    closed: "ปิดให้บริการ",
    override_closed: "หัวหน้างานสั่งปิด",
    override_open: "หัวหน้างานสั่งเปิดนอกเวลา",
    emergency: "ประกาศฉุกเฉิน",
    no_emergency: "ไม่มีประกาศฉุกเฉิน",
    probe_ok: "ทดสอบโทร: ปกติ",
    probe_fallback: "ทดสอบโทร: ระบบสำรองรับสาย",
    probe_not_answered: "ทดสอบโทร: ไม่มีการรับสาย",
    probe_error: "ทดสอบโทรไม่ได้",
    probe_answer: "รับใน {s} วิ",
    probe_at: "ทดสอบล่าสุด",
    set_emergency: "ตั้งประกาศ",
    clear_emergency: "ยกเลิกประกาศ",
    prompt: "ข้อความประกาศ",
    role_viewer: "ผู้ชม",
    role_supervisor: "หัวหน้างาน",
    role_admin: "ผู้ดูแลระบบ",
    no_queues: "ยังไม่มีคิว",
    node: "เครื่อง Asterisk",
    node_up: "ทำงาน",
    node_down: "หยุดทำงาน",
    waiting_all: "รอสายรวม {n}",
    error: "ผิดพลาด",
    network_error: "ติดต่อเซิร์ฟเวอร์ไม่ได้",
    since: "นาน",
    held_callback: "รอโทรกลับ",
    s_available: "ว่าง",
    s_ringing: "กำลังเรียก",
    s_in_call: "กำลังสนทนา",
    s_wrapup: "สรุปงาน",
    s_paused: "พัก",
    s_unavailable: "ไม่พร้อม",
    c_waiting: "รอสาย",
    c_announcing: "ฟังประกาศ",
    c_ringing: "กำลังต่อสาย",
    cb_pending: "รอโทรกลับ",
    cb_dialing: "กำลังโทร",
    cb_failed: "ไม่สำเร็จ",
    r_break: "พักเบรก",
    r_lunch: "พักกลางวัน",
    r_training: "อบรม",
    r_meeting: "ประชุม",
    r_admin: "งานเอกสาร",
  },
  en: {
    title: "Hotline wallboard",
    subtitle: "Live queue status",
    login_title: "Sign in to the hotline wallboard",
    login_help: "Paste the API token your administrator gave you (ivr tokens create)",
    token: "Token",
    login: "Sign in",
    logout: "Sign out",
    lang_switch: "ภาษาไทย",
    live: "Live",
    connecting: "Connecting…",
    reconnecting: "Disconnected, retrying in {s} s",
    waiting: "Waiting",
    longest: "Longest wait",
    est_wait: "Expected wait",
    agents: "Agents",
    callers: "Callers in order",
    no_callers: "No one waiting",
    callbacks: "Callbacks",
    no_callbacks: "No callback requests",
    today: "Today",
    offered: "Offered",
    answered: "Answered",
    service_level: "Service level",
    sl_rule: "answered within {s} s, target {p}",
    abandoned: "Abandoned",
    short_abandoned: "Short abandons",
    asa: "Avg. speed of answer",
    aht: "Avg. handle time",
    callbacks_failed: "Callbacks failed",
    more: "and {n} more",
    place: "Place",
    pause: "Pause",
    unpause: "Unpause",
    cancel_cb: "Cancel",
    confirm: "Confirm",
    close: "Close",
    reason: "Reason",
    all_queues: "In all of the agent's queues",
    confirm_pause: "Pause agent {a} in queue {q}?",
    confirm_unpause: "Put agent {a} back to taking calls in queue {q}?",
    confirm_cancel: "Cancel callback request {n} in queue {q}?",
    confirm_emergency: "Set the emergency announcement of hotline {h}?",
    confirm_clear: "Clear the emergency announcement of hotline {h}?",
    done: "Done",
    hotlines: "Hotlines",
    open: "Open",
    closed: "Closed",
    override_closed: "closed by a supervisor",
    override_open: "opened outside hours by a supervisor",
    emergency: "Emergency announcement",
    no_emergency: "No emergency announcement",
    probe_ok: "Test call: ok",
    probe_fallback: "Test call: fallback answered",
    probe_not_answered: "Test call: not answered",
    probe_error: "Test call not placed",
    probe_answer: "answered in {s} s",
    probe_at: "last test call",
    set_emergency: "Set announcement",
    clear_emergency: "Clear announcement",
    prompt: "Announcement",
    role_viewer: "Viewer",
    role_supervisor: "Supervisor",
    role_admin: "Administrator",
    no_queues: "No queues yet",
    node: "Asterisk node",
    node_up: "up",
    node_down: "down",
    waiting_all: "{n} waiting in all",
    error: "Error",
    network_error: "Cannot reach the server",
    since: "for",
    held_callback: "Held for a callback",
    s_available: "Available",
    s_ringing: "Ringing",
    s_in_call: "On call",
    s_wrapup: "Wrap-up",
    s_paused: "Paused",
    s_unavailable: "Unavailable",
    c_waiting: "Waiting",
    c_announcing: "Announcement",
    c_ringing: "Ringing agent",
    cb_pending: "Pending",
    cb_dialing: "Dialling",
    cb_failed: "Failed",
    r_break: "Break",
    r_lunch: "Lunch",
    r_training: "Training",
    r_meeting: "Meeting",
    r_admin: "Admin work",
  },
};

let lang = localStorage.getItem("wallboard.lang") === "en" ? "en" : "th";

export function getLang() {
  return lang;
}

export function setLang(value) {
  lang = value === "en" ? "en" : "th";
  localStorage.setItem("wallboard.lang", lang);
  document.documentElement.lang = lang;
}

// The text of `key` in the current language, with {name} replaced from `vars`.
export function t(key, vars = {}) {
  const text = TEXTS[lang][key] ?? TEXTS.th[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

// A label for a pause reason: a known one translated, a callback hold named, else as given.
export function reasonLabel(reason) {
  if (!reason) return "";
  if (reason.startsWith("ivr-callback:")) return t("held_callback");
  return TEXTS[lang][`r_${reason}`] ?? reason;
}

const fmt = {};
function formatter(kind) {
  const key = `${lang}:${kind}`;
  if (!fmt[key]) {
    const locale = lang === "th" ? "th-TH-u-ca-buddhist-nu-latn" : "en-GB";
    const options =
      kind === "date"
        ? { day: "numeric", month: "short", year: "numeric", weekday: "long" }
        : { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
    fmt[key] = new Intl.DateTimeFormat(locale, { ...options, timeZone: TZ });
  }
  return fmt[key];
}

// "วันอาทิตย์ที่ 29 พ.ย. 2569" style date, and a 24-hour clock, both in Bangkok time.
export function formatDate(date) {
  return formatter("date").format(date);
}

export function formatClock(date) {
  return formatter("clock").format(date);
}

// 75 -> "1:15", 3725 -> "1:02:05"; null -> "–".
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

export function percent(ratio) {
  if (ratio === null || ratio === undefined) return "–";
  return `${Math.round(ratio * 100)}%`;
}

// Fill every element carrying data-i18n with its text (the page's fixed labels).
export function translatePage(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
}
