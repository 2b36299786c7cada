// Chinese first, English on request. Each text is written as a pair where it is used, so that a
// page reads in both languages at once in its source.
import type { Schemas } from "./api/client";

export type Lang = "zh" | "en";

const STORED = "innoloan.lang";
let current: Lang = localStorage.getItem(STORED) === "en" ? "en" : "zh";

export function lang(): Lang {
  return current;
}

export function setLang(next: Lang) {
  current = next;
  localStorage.setItem(STORED, next);
  document.documentElement.lang = next === "zh" ? "zh-CN" : "en";
}

/** The text in the chosen language. */
export function t(zh: string, en: string): string {
  return current === "zh" ? zh : en;
}

export function roleName(role: Schemas["Role"]): string {
  switch (role) {
    case "admin":
      return t("平台管理员", "Administrator");
    case "park_office":
      return t("园区管理办公室", "Park office");
    case "bank":
      return t("银行", "Bank");
    case "enterprise":
      return t("企业", "Enterprise");
  }
}

const STATUS: Record<string, [string, string]> = {
  submitted: ["已提交", "submitted"],
  under_review: ["审核中", "under review"],
  approved: ["已批准", "approved"],
  rejected: ["已拒绝", "rejected"],
  withdrawn: ["已撤回", "withdrawn"],
  draft: ["草稿", "draft"],
  published: ["已上架", "published"],
  suspended: ["已暂停", "suspended"],
  retired: ["已下架", "retired"],
  active: ["有效", "active"],
  expired: ["已到期", "expired"],
  closed: ["已关闭", "closed"],
  normal: ["正常", "normal"],
  special_mention: ["关注", "special mention"],
  substandard: ["次级", "substandard"],
  doubtful: ["可疑", "doubtful"],
  loss: ["损失", "loss"],
  bullet: ["到期一次还本付息", "bullet"],
  monthly_interest: ["按月付息、到期还本", "monthly interest"],
  equal_installment: ["等额本息", "equal installments"],
  equal_principal: ["等额本金", "equal principal"],
  startup: ["初创期", "start-up"],
  growth: ["成长期", "growth"],
  mature: ["成熟期", "mature"],
  pure_credit: ["纯信用", "pure credit"],
  guaranteed: ["担保", "guaranteed"],
  ip_pledge: ["知识产权质押", "IP pledge"],
};

/** A status, classification, method or other enumerated value, in words. */
export function word(value: string | null | undefined): string {
  if (!value) return "—";
  const pair = STATUS[value];
  return pair ? t(pair[0], pair[1]) : value;
}

const ERRORS: Partial<Record<Schemas["ErrorCode"], [string, string]>> = {
  unauthorized: ["API 密钥无效或已被吊销，请检查后重新登录。", "The API key is unknown or revoked. Check it and sign in again."],
  forbidden: ["此密钥的角色不能执行该操作。", "This key's role may not do that."],
  not_found: ["未找到，或不在此密钥的范围内。", "Not found, or not within this key's scope."],
  validation_failed: ["有字段未通过校验：", "Some fields are not valid:"],
  conflict: ["与已有记录冲突。", "This conflicts with a record that exists."],
  invalid_state: ["当前状态下不能这样做。", "That cannot be done in the current state."],
  ineligible: ["企业不符合该产品的条件：", "The enterprise does not meet the product's rules:"],
  quota_exceeded: ["产品额度不足。", "The product's quota is not enough."],
  exceeds_available: ["超出授信可用额度。", "More than the credit line has available."],
  exceeds_outstanding: ["超出贷款应还金额。", "More than the loan owes."],
  below_floor: ["分类不能优于逾期天数决定的下限。", "The classification may not be better than its floor."],
  unavailable: ["服务暂不可用，请稍后重试。", "The service is unavailable; try again shortly."],
  internal: ["服务出错了，请稍后重试。", "The service failed; try again shortly."],
  no_score: ["该企业尚无创新积分。", "The enterprise has no score yet."],
};

/** The headline of an error code, in words. */
export function errorHeadline(code: Schemas["ErrorCode"]): string {
  const pair = ERRORS[code];
  return pair ? t(pair[0], pair[1]) : t("请求未被接受。", "The request was refused.");
}
