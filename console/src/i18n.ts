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
  mature: ["稳定期", "mature"],
  pure_credit: ["纯信用", "pure credit"],
  guaranteed: ["担保", "guaranteed"],
  ip_pledge: ["知识产权质押", "IP pledge"],
  open: ["待答复", "open"],
  contacted: ["已对接", "contacted"],
  credit_granted: ["已授信", "credit granted"],
  declined: ["已婉拒", "declined"],
};

/** A status, classification, method or other enumerated value, in words. */
export function word(value: string | null | undefined): string {
  if (!value) return "—";
  const pair = STATUS[value];
  return pair ? t(pair[0], pair[1]) : value;
}

/** A score model's status: `active` is the one the park scores with. */
export function modelStatus(status: Schemas["ModelStatus"]): string {
  switch (status) {
    case "draft":
      return t("草稿", "draft");
    case "active":
      return t("启用中", "active");
    case "inactive":
      return t("已停用", "inactive");
  }
}

/** A recommendation list's status. */
export function listStatus(status: Schemas["ListStatus"]): string {
  return status === "draft" ? t("草稿", "draft") : t("已发布", "published");
}

/** An indicator's group in the Guidelines. */
export function groupName(group: Schemas["IndicatorGroup"]): string {
  switch (group) {
    case "technology":
      return t("技术创新", "technology");
    case "growth":
      return t("成长经营", "growth");
    case "auxiliary":
      return t("辅助", "auxiliary");
  }
}

const ERRORS: Partial<Record<Schemas["ErrorCode"], [string, string]>> = {
  unauthorized: ["API 密钥无效或已被吊销，请检查后重新登录。", "The API key is unknown or revoked. Check it and sign in again."],
  forbidden: ["此密钥的角色不能执行该操作。", "This key's role may not do that."],
  not_found: ["未找到，或不在此密钥的范围内。", "Not found, or not within this key's scope."],
  validation_failed: ["有字段未通过校验：", "Some fields are not valid:"],
  conflict: ["与已有记录冲突。", "This conflicts with a record that exists."],
  invalid_state: ["当前状态下不能这样做。", "That cannot be done in the current state."],
  ineligible: ["企业不符合条件：", "The enterprise does not meet the rules:"],
  quota_exceeded: ["产品额度不足。", "The product's quota is not enough."],
  exceeds_available: ["超出授信可用额度。", "More than the credit line has available."],
  exceeds_outstanding: ["超出贷款应还金额。", "More than the loan owes."],
  insufficient_pool: ["资金池余额不足以支付该笔代偿，请先注资。", "The pool's balance is less than the claim; top it up first."],
  budget_exhausted: ["贴息项目剩余预算不足以支付该笔申请。", "What is left of the programme's budget is less than the claim."],
  below_floor: ["分类不能优于逾期天数决定的下限。", "The classification may not be better than its floor."],
  unavailable: ["服务暂不可用，请稍后重试。", "The service is unavailable; try again shortly."],
  internal: ["服务出错了，请稍后重试。", "The service failed; try again shortly."],
  no_score: ["该企业尚无创新积分。", "The enterprise has no score yet."],
  idempotency_key_in_flight: ["同一请求正在处理中，请稍后再试。", "The same request is still being handled; try again shortly."],
  idempotency_key_reused: ["该请求的内容已改变，请重新提交。", "The request changed since it was first sent; submit it again."],
  payload_too_large: ["内容太大，请分批提交。", "Too large; send it in parts."],
  unsupported_media_type: ["不支持该内容格式。", "That content type is not accepted."],
  malformed_body: ["请求内容无法解析。", "The request could not be read."],
};

/** The headline of an error code, in words. */
export function errorHeadline(code: Schemas["ErrorCode"]): string {
  const pair = ERRORS[code];
  return pair ? t(pair[0], pair[1]) : t("请求未被接受。", "The request was refused.");
}
