//! The demo data set: four real parks and the figures the Science and Technology Daily reported
//! for them in 2022 (see DOMAIN.md). Every record goes through the same domain and store code as
//! the API; every USCC is valid. The data set is deterministic.

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone, Utc};
use sea_orm::{DatabaseConnection, TransactionTrait};

use crate::domain::{
    EnterpriseSize, Money, Period, Principal, Qualification, RateBps, Role, Scope, Score, Stage, Uscc,
    calendar,
    credit::{ApplicationAction, Approval},
    product::{CreditType, Eligibility, Product, Terms, Transition},
    recommendation::{Answer, Need, TaskStatus},
    score_import::{Batch, Cell, ScoreRow},
    score_model::RawValues,
    servicing::{Loan, RepaymentMethod, ScheduleLine},
};
use crate::service::{
    Error, Write, applications,
    applications::Apply,
    credit::{self, Draw},
    directory::{self, NewKey},
    loans::{self, Repay},
    products,
    recommendations::{self, Draft as ListDraft},
    risk_pools, score_models, scores, subsidies,
};
use crate::store::{
    self, StoreError, audit::Actor, enterprises::NewEnterprise, products::Draft, recommendations::Chosen,
};

/// The demo acts as an admin of the command line: every record goes through the use cases, with
/// every rule they check.
const ADMIN: Principal = Principal::command_line();

/// The keys the demo prints, one per role.
pub struct DemoKeys {
    pub admin: String,
    /// The office of 成都高新区.
    pub park_office: String,
    /// 成都银行.
    pub bank: String,
    /// 成都美洽网络科技有限公司.
    pub enterprise: String,
    pub chengdu_park_id: i64,
    pub meiqia_id: i64,
    pub jinxiongmao_id: i64,
}

const INDUSTRIES: [&str; 6] = [
    "software",
    "biomedicine",
    "optoelectronics",
    "new_materials",
    "intelligent_manufacturing",
    "new_energy",
];
const SIZES: [EnterpriseSize; 4] =
    [EnterpriseSize::Small, EnterpriseSize::Micro, EnterpriseSize::Medium, EnterpriseSize::Small];
/// The last day a demo line may be drawn on: two years from the day the demo runs, so that its
/// lines can still be drawn whenever it runs.
fn lines_expire_on() -> NaiveDate {
    let today = Utc::now().date_naive();
    today.checked_add_months(chrono::Months::new(24)).unwrap_or(today)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn at(day: NaiveDate, hour: u32) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(hour, 0, 0).unwrap_or_default())
}

fn money(fen: i64) -> Money {
    Money::from_fen(fen).unwrap_or(Money::ZERO)
}

/// `n` Chinese working days before `day`.
fn working_days_before(mut day: NaiveDate, n: u32) -> NaiveDate {
    let mut left = n;
    while left > 0 {
        day = day.pred_opt().unwrap_or(day);
        if calendar::china().is_working_day(day) {
            left -= 1;
        }
    }
    day
}

/// The `i`-th Chinese working day from `start` (the first working day on or after it is the
/// 0th), cycling within `span` working days.
fn nth_working_day(start: NaiveDate, i: usize, span: usize) -> NaiveDate {
    let china = calendar::china();
    let mut day = start;
    while !china.is_working_day(day) {
        day = day.succ_opt().unwrap_or(day);
    }
    china.add_working_days(day, i32::try_from(i % span.max(1)).unwrap_or(0))
}

/// `n` amounts, each a multiple of `unit` but the last, that add up to `total` exactly, varied
/// in pairs so that they look like real grants.
fn split(total: i64, n: usize, unit: i64) -> Vec<i64> {
    let count = n.max(1) as i64;
    let base = total / count / unit * unit;
    let mut amounts = vec![base; n.max(1)];
    for i in (0..n.saturating_sub(1)).step_by(2) {
        let swing = (i as i64 * 7 % 10) * unit * 10;
        let swing = swing.min(base - unit);
        amounts[i] += swing;
        amounts[i + 1] -= swing;
    }
    if let Some(last) = amounts.last_mut() {
        *last += total - base * count;
    }
    amounts
}

struct ParkPlan {
    code: &'static str,
    name: &'static str,
    region: &'static str,
    /// The administrative division code that opens its enterprises' USCCs.
    division: &'static str,
    city: &'static str,
    period: &'static str,
    scored: usize,
    /// Named enterprises: (index in the score order, name, industry).
    named: &'static [(usize, &'static str, &'static str)],
}

/// The enterprises of a park, best score first.
struct Roster {
    park_id: i64,
    ids: Vec<i64>,
}

fn score_of(plan: &ParkPlan, i: usize) -> Score {
    // Nanchang's 2021 list has strictly falling scores, so that every rank is its own.
    let centi = if plan.code == "nanchang" {
        9_900 - (i as i32) * 7
    } else {
        9_800 - (i as i64 * 5_500 / plan.scored as i64) as i32
    };
    Score::clamped(centi)
}

async fn seed_park(w: &mut Write<'_>, plan: &ParkPlan) -> Result<Roster, Error> {
    let park = directory::create_park(
        w,
        ADMIN,
        store::parks::NewPark { code: plan.code.into(), name: plan.name.into(), region: plan.region.into() },
    )
    .await?;
    let mut batch = Vec::with_capacity(plan.scored);
    for i in 0..plan.scored {
        let named = plan.named.iter().find(|(index, _, _)| *index == i);
        let name = named
            .map(|(_, name, _)| (*name).to_owned())
            .unwrap_or_else(|| format!("{}科创{:04}号科技有限公司", plan.city, i + 1));
        let industry = named.map(|(_, _, industry)| *industry).unwrap_or(INDUSTRIES[i % INDUSTRIES.len()]);
        let uscc = Uscc::with_check_character(&format!("91{}MA{:07}", plan.division, i + 1))
            .map_err(|e| Error::invalid("uscc", e.to_string()))?;
        let qualifications = match i % 4 {
            0 => vec![Qualification::HighTechEnterprise, Qualification::SpecializedSme],
            1 => vec![Qualification::HighTechEnterprise, Qualification::TechSme],
            2 => vec![Qualification::TechSme],
            _ => vec![Qualification::HighTechEnterprise],
        };
        let founded_on = date(2008 + (i % 12) as i32, 1 + (i % 12) as u32, 1 + (i % 28) as u32);
        let size = SIZES[i % SIZES.len()];
        batch.push(NewEnterprise {
            uscc,
            name,
            park_id: park.id,
            industry: industry.to_owned(),
            size,
            founded_on,
            qualifications,
        });
    }
    let usccs: Vec<Uscc> = batch.iter().map(|e| e.uscc.clone()).collect();
    let ids = directory::register_enterprises(w, ADMIN, park.id, batch).await?;
    let scores: Vec<Score> = (0..plan.scored).map(|i| score_of(plan, i)).collect();
    let rows = usccs
        .into_iter()
        .zip(&scores)
        .enumerate()
        .map(|(i, (uscc, score))| ScoreRow {
            row: i as u32 + 1,
            uscc,
            score: *score,
            stage: [Stage::Growth, Stage::Startup, Stage::Mature][i % 3],
            indicators: [
                ("研发费用金额".to_owned(), (5_000_000 - i as i64 * 500) as f64),
                ("发明专利申请量".to_owned(), (20 - (i % 20)) as f64),
                ("科技人员占比".to_owned(), 0.2 + (i % 50) as f64 / 100.0),
                ("营业收入增长率".to_owned(), 0.05 + (i % 30) as f64 / 100.0),
            ]
            .into_iter()
            .collect(),
        })
        .collect();
    let period = Period::parse(plan.period).map_err(|e| Error::invalid("period", e.to_string()))?;
    scores::import(w, ADMIN, park.id, &period, Batch { rows, errors: Vec::new() }).await?;
    Ok(Roster { park_id: park.id, ids })
}

struct ProductPlan {
    bank: &'static str,
    code: &'static str,
    name: &'static str,
    rates: (i64, i64),
    max_amount: i64,
    total_quota: i64,
    min_score: i32,
}

async fn publish(
    w: &mut Write<'_>,
    banks: &[(String, i64)],
    park_id: i64,
    plan: &ProductPlan,
) -> Result<Product, Error> {
    let bank_id =
        banks.iter().find(|(code, _)| code == plan.bank).map(|(_, id)| *id).ok_or(StoreError::NotFound)?;
    let draft = Draft {
        code: plan.code.into(),
        name: plan.name.into(),
        description: format!("{}，纯信用，按创新积分授信", plan.name),
        credit_type: CreditType::PureCredit,
        terms: Terms {
            min_amount: money(1_000_000),
            max_amount: money(plan.max_amount),
            rate_bps_min: RateBps::new(plan.rates.0).map_err(|_| StoreError::NotFound)?,
            rate_bps_max: RateBps::new(plan.rates.1).map_err(|_| StoreError::NotFound)?,
            term_months_min: 6,
            term_months_max: 36,
            approval_sla_days: 5,
            total_quota: money(plan.total_quota),
            eligibility: Eligibility {
                min_score: Score::from_centi(plan.min_score).ok(),
                park_ids: vec![park_id],
                ..Default::default()
            },
            amount_tiers: Vec::new(),
            revolving: false,
        },
    };
    let product = products::create(w, ADMIN, Some(bank_id), draft).await?;
    products::transition(w, ADMIN, product.id, Transition::Publish).await
}

/// Grants enterprise `i` of the roster a line under `product`, through the eligibility engine
/// and the same store calls as the API. Returns the line's id.
#[allow(clippy::too_many_arguments)]
async fn grant(
    w: &mut Write<'_>,
    roster: &Roster,
    i: usize,
    product: &Product,
    amount: i64,
    rate: i64,
    granted_on: NaiveDate,
    working_days: u32,
) -> Result<i64, Error> {
    let submitted = working_days_before(granted_on, working_days);
    let apply = Apply {
        enterprise_id: Some(roster.ids[i]),
        product_id: product.id,
        amount: money(amount),
        term_months: 12,
        purpose: "研发投入与流动资金".into(),
    };
    let application = applications::submit(w, ADMIN, apply, at(submitted, 10)).await?;
    let approval = Approval {
        amount: money(amount),
        rate: RateBps::new(rate).map_err(|e| Error::invalid("rate_bps", e.to_string()))?,
        term_months: 12,
        expires_on: lines_expire_on(),
    };
    let (_, line) = applications::approve(w, ADMIN, application.id, approval, at(granted_on, 16)).await?;
    Ok(line.id)
}

/// Draws `total` from the lines in order, each up to its amount, a few days after its grant.
async fn draw(
    w: &mut Write<'_>,
    lines: &[(i64, i64, NaiveDate)],
    total: i64,
    prefix: &str,
    today: NaiveDate,
) -> Result<(), Error> {
    let mut left = total;
    for (n, (line, amount, granted_on)) in lines.iter().enumerate() {
        if left == 0 {
            break;
        }
        let drawn = (*amount).min(left);
        let on = nth_working_day(*granted_on, 3, 4);
        let draw = Draw {
            line_id: *line,
            amount: money(drawn),
            reference: format!("{prefix}-{:05}", n + 1),
            disbursed_on: on,
            maturity_date: None,
            repayment_method: None,
        };
        credit::disburse(w, ADMIN, draw, today).await?;
        left -= drawn;
    }
    Ok(())
}

const BANKS: [(&str, &str); 12] = [
    ("hankou-bank", "汉口银行"),
    ("boc", "中国银行"),
    ("cmb", "招商银行"),
    ("abc", "农业银行"),
    ("icbc", "工商银行"),
    ("ccb", "建设银行"),
    ("bocom", "交通银行"),
    ("cib", "兴业银行"),
    ("jiangxi-bank", "江西银行"),
    ("jiujiang-bank", "九江银行"),
    ("nanchang-rcb", "南昌农商银行"),
    ("bocd", "成都银行"),
];

const OPTICS: ParkPlan = ParkPlan {
    code: "optics-valley",
    name: "武汉东湖新技术开发区（光谷）",
    region: "湖北省武汉市",
    division: "420100",
    city: "武汉",
    period: "2022",
    scored: 6_527,
    named: &[(5, "武汉波睿达生物科技有限公司", "biomedicine")],
};

const NANCHANG: ParkPlan = ParkPlan {
    code: "nanchang",
    name: "南昌高新区",
    region: "江西省南昌市",
    division: "360100",
    city: "南昌",
    period: "2021",
    scored: 1_200,
    named: &[(31, "江西众加利高科技股份有限公司", "intelligent_manufacturing")],
};

const CHENGDU: ParkPlan = ParkPlan {
    code: "chengdu",
    name: "成都高新区",
    region: "四川省成都市",
    division: "510100",
    city: "成都",
    period: "2022",
    scored: 6_700,
    named: &[(10, "成都美洽网络科技有限公司", "software")],
};

const KUNSHAN: ParkPlan = ParkPlan {
    code: "kunshan",
    name: "昆山高新区",
    region: "江苏省昆山市",
    division: "320583",
    city: "昆山",
    period: "2022",
    scored: 1_000,
    named: &[],
};

const YI: i64 = 10_000_000_000; // ¥100 m (一亿元) in fen

/// Optics Valley's first batch of 创新积分贷: 2,610 enterprises, ¥66.485 bn granted and
/// ¥17.825 bn disbursed; 汉口银行 lent 武汉波睿达 ¥30 m.
async fn optics_valley(w: &mut Write<'_>, banks: &[(String, i64)], today: NaiveDate) -> Result<i64, Error> {
    let roster = seed_park(w, &OPTICS).await?;
    let mut products = Vec::new();
    for plan in [
        ProductPlan {
            bank: "hankou-bank",
            code: "guanggu-jfd",
            name: "光谷创新积分贷",
            rates: (350, 550),
            max_amount: YI,
            total_quota: 500 * YI,
            min_score: 4_000,
        },
        ProductPlan {
            bank: "boc",
            code: "guanggu-kcjfd",
            name: "科创积分贷",
            rates: (340, 520),
            max_amount: YI,
            total_quota: 500 * YI,
            min_score: 4_000,
        },
        ProductPlan {
            bank: "cmb",
            code: "guanggu-kcd",
            name: "光谷科创贷",
            rates: (360, 560),
            max_amount: YI,
            total_quota: 500 * YI,
            min_score: 4_000,
        },
    ] {
        products.push(publish(w, banks, roster.park_id, &plan).await?);
    }
    const BORUIDA: usize = 5;
    let mut amounts = split(6_648_500_000_000 - 3_000_000_000, 2_609, 1_000_000).into_iter();
    let mut lines = Vec::new();
    for i in 0..2_610 {
        let (product, amount) = if i == BORUIDA {
            (&products[0], 3_000_000_000)
        } else {
            (&products[i % 3], amounts.next().unwrap_or(1_000_000))
        };
        let granted_on = nth_working_day(date(2022, 9, 29), i, 23);
        let line = grant(w, &roster, i, product, amount, 420, granted_on, 1 + (i % 5) as u32).await?;
        lines.push((line, amount, granted_on));
    }
    draw(w, &lines, 1_782_500_000_000, "GG", today).await?;
    Ok(roster.park_id)
}

/// Nanchang: the 2021 top-100 list, 10 banks with 20 products in the financial supermarket, 243
/// enterprises granted ¥6.12 bn and ¥2.8 bn lent; 江西众加利 (rank 32) drew a ¥50 m 专精特新贷.
async fn nanchang(w: &mut Write<'_>, banks: &[(String, i64)], today: NaiveDate) -> Result<(), Error> {
    let roster = seed_park(w, &NANCHANG).await?;
    let mut products = Vec::new();
    let lenders =
        ["abc", "icbc", "ccb", "boc", "bocom", "cib", "jiangxi-bank", "jiujiang-bank", "cmb", "nanchang-rcb"];
    for bank in lenders {
        let (first, second) = if bank == "abc" {
            (("zjtx", "专精特新贷"), ("nc-kcjfd", "科创积分贷"))
        } else {
            (("nc-jfd", "创新积分贷"), ("nc-kcd", "科创贷"))
        };
        for (code, name) in [first, second] {
            let plan = ProductPlan {
                bank,
                code,
                name,
                rates: (360, 600),
                max_amount: YI,
                total_quota: 200 * YI,
                min_score: 3_000,
            };
            products.push(publish(w, banks, roster.park_id, &plan).await?);
        }
    }
    const ZHONGJIALI: usize = 31;
    let mut amounts = split(612_000_000_000 - 5_000_000_000, 242, 1_000_000).into_iter();
    let mut lines = Vec::new();
    for i in 0..243 {
        let (product, amount) = if i == ZHONGJIALI {
            (&products[0], 5_000_000_000)
        } else {
            (&products[i % 20], amounts.next().unwrap_or(1_000_000))
        };
        let granted_on = nth_working_day(date(2022, 3, 1), i, 140);
        let line = grant(w, &roster, i, product, amount, 430, granted_on, 2 + (i % 4) as u32).await?;
        lines.push((line, amount, granted_on));
    }
    // 众加利's line is drawn in full first.
    let zhongjiali_line = lines.remove(ZHONGJIALI);
    lines.insert(0, zhongjiali_line);
    draw(w, &lines, 280_000_000_000, "NC", today).await
}

/// Chengdu: 金熊猫积分贷, 643 grants: 成都银行 454 for ¥7.6 bn (the first, ¥5 m to 成都美洽 on
/// 17 May 2022) and 工商银行 189 for ¥2.6 bn; rates at most 4.5%, approval in 5 working days at
/// most on average.
async fn chengdu(
    w: &mut Write<'_>,
    banks: &[(String, i64)],
    today: NaiveDate,
) -> Result<(i64, i64, i64), Error> {
    let roster = seed_park(w, &CHENGDU).await?;
    let bocd = publish(
        w,
        banks,
        roster.park_id,
        &ProductPlan {
            bank: "bocd",
            code: "jinxiongmao",
            name: "金熊猫积分贷",
            rates: (380, 450),
            max_amount: YI,
            total_quota: 1_000 * YI,
            min_score: 4_000,
        },
    )
    .await?;
    let icbc = publish(
        w,
        banks,
        roster.park_id,
        &ProductPlan {
            bank: "icbc",
            code: "cd-jinxiongmao",
            name: "金熊猫积分贷",
            rates: (360, 450),
            max_amount: YI,
            total_quota: 500 * YI,
            min_score: 4_000,
        },
    )
    .await?;
    const MEIQIA: usize = 10;
    let meiqia = grant(w, &roster, MEIQIA, &bocd, 500_000_000, 400, date(2022, 5, 17), 3).await?;
    let draw = Draw {
        line_id: meiqia,
        amount: money(500_000_000),
        reference: "JXM-00001".into(),
        disbursed_on: date(2022, 5, 18),
        maturity_date: None,
        repayment_method: None,
    };
    credit::disburse(w, ADMIN, draw, today).await?;
    let others: Vec<usize> = (0..643).filter(|&i| i != MEIQIA).collect();
    let bocd_amounts = split(760_000_000_000 - 500_000_000, 453, 1_000_000);
    let icbc_amounts = split(260_000_000_000, 189, 1_000_000);
    for (n, &i) in others.iter().enumerate() {
        let (product, amount) =
            if n < 453 { (&bocd, bocd_amounts[n]) } else { (&icbc, icbc_amounts[n - 453]) };
        let rate = 380 + (n % 8) as i64 * 10;
        let granted_on = nth_working_day(date(2022, 5, 18), n, 115);
        grant(w, &roster, i, product, amount, rate, granted_on, 1 + (n % 5) as u32).await?;
    }
    pending(w, &roster, &bocd, today).await?;
    chengdu_list(w, &roster, MEIQIA, banks, today).await?;
    Ok((roster.park_id, roster.ids[MEIQIA], bocd.id))
}

/// Synthetic, not from the reports: four applications still in 成都银行's queue, made by
/// enterprises without a line in the last working days, every other one under review, so that
/// the bank's queue (and the SLA it keeps) has something to show.
async fn pending(
    w: &mut Write<'_>,
    roster: &Roster,
    product: &Product,
    today: NaiveDate,
) -> Result<(), Error> {
    for (k, i) in (700..704).enumerate() {
        let apply = Apply {
            enterprise_id: Some(roster.ids[i]),
            product_id: product.id,
            amount: money(200_000_000 + k as i64 * 50_000_000),
            term_months: 12,
            purpose: "研发投入与流动资金".into(),
        };
        let submitted = working_days_before(today, k as u32 + 1);
        let application = applications::submit(w, ADMIN, apply, at(submitted, 10)).await?;
        if k % 2 == 1 {
            applications::act(w, ADMIN, application.id, ApplicationAction::Review, None, at(submitted, 15))
                .await?;
        }
    }
    Ok(())
}

/// Kunshan: ICBC's 火炬贷 with ¥10 bn for 1,000 park enterprises; partners ICBC, 兴业银行,
/// 交通银行 and 农业银行.
async fn kunshan(w: &mut Write<'_>, banks: &[(String, i64)]) -> Result<(), Error> {
    let roster = seed_park(w, &KUNSHAN).await?;
    kunshan_computed(w, roster.park_id).await?;
    for plan in [
        ProductPlan {
            bank: "icbc",
            code: "huojudai",
            name: "火炬贷",
            rates: (350, 480),
            max_amount: 10 * YI,
            total_quota: 100 * YI,
            min_score: 4_000,
        },
        ProductPlan {
            bank: "cib",
            code: "ks-kjd",
            name: "科技贷",
            rates: (380, 520),
            max_amount: YI,
            total_quota: 50 * YI,
            min_score: 5_000,
        },
        ProductPlan {
            bank: "bocom",
            code: "ks-kcd",
            name: "科创贷",
            rates: (370, 500),
            max_amount: YI,
            total_quota: 50 * YI,
            min_score: 5_000,
        },
        ProductPlan {
            bank: "abc",
            code: "ks-kjed",
            name: "科技e贷",
            rates: (360, 500),
            max_amount: YI,
            total_quota: 50 * YI,
            min_score: 5_000,
        },
    ] {
        publish(w, banks, roster.park_id, &plan).await?;
    }
    Ok(())
}

/// A number from 0 to 1 that looks random but is the same on every run, for enterprise `i` and
/// indicator `k`.
fn jitter(i: usize, k: usize) -> f64 {
    let mut x = (i as u64)
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add((k as u64 + 1).wrapping_mul(1_442_695_040_888_963_407));
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    (x % 10_000) as f64 / 10_000.0
}

/// Synthetic, not from the reports: 昆山高新区 adopts the default score model (Guidelines 1.0)
/// and scores its 2023 period from indicator values made up for the demo, younger firms with
/// more R&D and less revenue. Its 2022 scores, as reported, stay as they were.
async fn kunshan_computed(w: &mut Write<'_>, park_id: i64) -> Result<(), Error> {
    let model = score_models::create(w, ADMIN, park_id, "创新积分指引 1.0（昆山高新区）", None).await?;
    score_models::activate(w, ADMIN, model.id).await?;
    let rows = (0..KUNSHAN.scored)
        .map(|i| {
            let uscc = Uscc::with_check_character(&format!("91{}MA{:07}", KUNSHAN.division, i + 1))
                .map_err(|e| Error::invalid("uscc", e.to_string()))?;
            let stage = [Stage::Growth, Stage::Startup, Stage::Mature][i % 3];
            let scale = match stage {
                Stage::Startup => 0.3,
                Stage::Growth => 1.0,
                Stage::Mature => 3.0,
            };
            let j = |k: usize| jitter(i, k);
            let mut values = vec![
                ("rd_expense", 30.0 + 900.0 * j(0) * scale),
                ("rd_expense_growth", -10.0 + 70.0 * j(1) / scale.sqrt()),
                ("rd_revenue_share", 2.0 + 16.0 * j(2) / scale.sqrt()),
                ("st_staff_share", 8.0 + 50.0 * j(3)),
                ("invention_patents", (8.0 * j(4) * scale.sqrt()).floor()),
                ("pct_applications", (4.0 * j(5) - 1.0).max(0.0).floor()),
                ("tech_contract_turnover", 600.0 * j(6) * j(6) * scale),
                ("high_tech_revenue", 12_000.0 * j(7) * scale),
                ("revenue", 200.0 + 30_000.0 * j(8) * scale),
                ("revenue_growth", -5.0 + 60.0 * j(9) / scale.sqrt()),
                ("postgraduate_share", 2.0 + 30.0 * j(10)),
                ("rd_tax_relief", 300.0 * j(11) * scale),
                ("return_on_net_assets", -5.0 + 25.0 * j(12)),
            ];
            // Auxiliary indicators: many firms have none to report.
            for (k, code, top) in [
                (13, "graduates_hired", 25.0),
                (14, "rd_platforms", 3.0),
                (15, "st_awards", 2.0),
                (16, "st_plan_projects", 4.0),
                (17, "venture_capital", 6_000.0),
            ] {
                if j(k) > 0.4 {
                    values.push((code, (top * j(k + 20)).floor()));
                }
            }
            Ok(RawValues {
                row: u32::try_from(i + 1).unwrap_or(u32::MAX),
                uscc: uscc.to_string(),
                stage: stage.as_str().to_owned(),
                values: values
                    .into_iter()
                    .map(|(code, v)| (code.to_owned(), Cell::Number((v * 100.0).round() / 100.0)))
                    .collect(),
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let period = Period::parse("2023").map_err(|e| Error::invalid("period", e.to_string()))?;
    score_models::score(w, ADMIN, park_id, &period, &rows).await?;
    Ok(())
}

/// Synthetic, not from the reports: 成都高新区's office pushed a list of 30 enterprises to 成都银行
/// and 工商银行 eight working days ago, each to be answered within five: 成都美洽 (already a
/// borrower, now seeking more) and the 29 best-scored firms without a line, each with its stated
/// need. The banks answered most within one to three working days; some are still open, and
/// overdue.
async fn chengdu_list(
    w: &mut Write<'_>,
    roster: &Roster,
    meiqia: usize,
    banks: &[(String, i64)],
    today: NaiveDate,
) -> Result<(), Error> {
    let bank =
        |code: &str| banks.iter().find(|(c, _)| c == code).map(|(_, id)| *id).ok_or(StoreError::NotFound);
    let (bocd, icbc) = (bank("bocd")?, bank("icbc")?);
    let entries: Vec<(i64, Need)> = std::iter::once(meiqia)
        .chain(643..672)
        .enumerate()
        .map(|(k, i)| {
            let need = Need {
                amount: Some(money((100 + (k as i64 % 8) * 50) * 1_000_000)),
                term_months: Some([12, 12, 24, 36][k % 4]),
                purpose: Some(["研发投入", "扩大产能", "采购原材料", "新产品市场推广"][k % 4].to_owned()),
            };
            (roster.ids[i], need)
        })
        .collect();
    let list = recommendations::create(
        w,
        ADMIN,
        roster.park_id,
        ListDraft {
            name: "成都高新区创新积分白名单（第四季度）".into(),
            respond_within_working_days: 5,
            bank_ids: vec![bocd, icbc],
            chosen: Chosen::Named(entries),
        },
    )
    .await?;
    let published_on = working_days_before(today, 8);
    recommendations::publish(w, ADMIN, list.id, published_on).await?;
    let tasks = store::recommendations::list_tasks(
        w.txn(),
        Scope::All,
        store::recommendations::TaskFilter { list_id: Some(list.id), ..Default::default() },
        None,
        500,
    )
    .await?;
    for task in tasks.items {
        let k = list.entries.iter().position(|e| e.enterprise_id == task.enterprise_id).unwrap_or(0);
        let (status, reason) = match (task.bank_id == bocd, k % 10) {
            // 成都美洽's request waits on 成都银行, its lender; the console's bank page answers it.
            (true, 0) | (true, 7) | (true, 8) => continue,
            (true, 3) | (false, 4) => {
                (TaskStatus::Declined, Some("已在他行获得足额授信，暂无新增需求".to_owned()))
            }
            (false, 2) | (false, 5) | (false, 9) => continue,
            _ => (TaskStatus::Contacted, Some("客户经理已上门对接".to_owned())),
        };
        let answered_on = nth_working_day(published_on, 1 + k % 3, 10);
        let answer = Answer { status, reason, application_id: None, credit_line_id: None };
        recommendations::answer(w, ADMIN, task.id, answer, at(answered_on, 10 + (k % 6) as u32)).await?;
    }
    Ok(())
}

/// Synthetic, not from the reports: 成都高新区's risk-compensation pool over 成都银行's 金熊猫积分贷,
/// 80% of a bad loan's unpaid principal, at most ¥3 m a loan, for loans drawn from a year ago to
/// the end of next year (so the running loans are enrolled), funded with ¥50 m. 成都银行 claimed on
/// its two worst loans: the first claim is paid, the second waits for the office.
async fn chengdu_pool(
    w: &mut Write<'_>,
    park_id: i64,
    product_id: i64,
    bank_id: i64,
    today: NaiveDate,
) -> Result<(), Error> {
    let enrol_from = today.checked_sub_months(chrono::Months::new(12)).unwrap_or(today);
    let enrol_to = date(today.year() + 1, 12, 31);
    let terms = crate::domain::risk_pool::PoolTerms {
        name: "成都高新区科技信贷风险补偿资金池".into(),
        product_ids: vec![product_id],
        coverage_bps: 8_000,
        per_loan_cap: money(300_000_000),
        enrol_from,
        enrol_to,
    };
    let pool = risk_pools::create(w, ADMIN, park_id, terms).await?;
    risk_pools::top_up(w, ADMIN, pool.pool.id, money(5_000_000_000), "成财金〔2026〕1号".into()).await?;
    let mut bad = Vec::new();
    let mut after = None;
    loop {
        let filter = store::loans::LoanFilter { bank_id: Some(bank_id), ..Default::default() };
        let page = store::loans::list(w.txn(), Scope::All, filter, after, 500).await?;
        bad.extend(page.items.into_iter().filter(|l| {
            l.product_id == product_id
                && l.disbursed_on >= enrol_from
                && l.written_off_on.is_none()
                && l.classification(today).is_npl()
        }));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    bad.sort_by_key(|l| std::cmp::Reverse(l.standing(today).days_past_due));
    for (k, loan) in bad.iter().take(2).enumerate() {
        let claim = risk_pools::file(w, ADMIN, pool.pool.id, loan.id, today).await?;
        if k == 0 {
            risk_pools::decide(w, ADMIN, claim.id, true, Some("材料齐全，同意代偿".into())).await?;
        }
    }
    Ok(())
}

/// Synthetic, after Sichuan's 天府科创贷 (30% of interest returned): 成都高新区's interest subsidy
/// programme for enterprises scoring 60 or more, 30% of the interest repaid from 2022 (when the
/// programme's loans began) to the end of next year, 10 points more on an enterprise's first loan, at most ¥200,000 an enterprise,
/// from a ¥5 m budget. Three enterprises claimed: two claims are paid, one waits for the office.
/// 成都美洽 has not claimed: its policies page shows what it may.
async fn chengdu_subsidy(
    w: &mut Write<'_>,
    park_id: i64,
    meiqia_id: i64,
    today: NaiveDate,
) -> Result<(), Error> {
    let from = date(2022, 1, 1);
    let terms = crate::domain::subsidy::ProgramTerms {
        name: "成都高新区科技型企业贷款贴息".into(),
        share_bps: 3_000,
        first_loan_bonus_bps: 1_000,
        per_enterprise_cap: money(20_000_000),
        budget: money(500_000_000),
        eligibility: crate::domain::product::Eligibility {
            min_score: Some(
                crate::domain::Score::from_centi(6_000)
                    .map_err(|e| Error::invalid("score", e.to_string()))?,
            ),
            ..Default::default()
        },
        from,
        to: date(today.year() + 1, 12, 31),
    };
    let program = subsidies::create(w, ADMIN, park_id, terms).await?;
    let mut claimants = Vec::new();
    let mut after = None;
    'pages: loop {
        let page = store::credit::list_lines(w.txn(), Scope::Park(park_id), None, after, 500).await?;
        for line in page.items {
            if line.enterprise_id == meiqia_id || claimants.contains(&line.enterprise_id) {
                continue;
            }
            let window = (from, today);
            match subsidies::file(w, ADMIN, program.program.id, Some(line.enterprise_id), window, today).await
            {
                Ok(claim) => claimants.push(claim.enterprise_id),
                // Not eligible, or no interest repaid yet: not a claimant.
                Err(Error::Ineligible(_) | Error::Store(StoreError::Invalid(_))) => continue,
                Err(other) => return Err(other),
            }
            if claimants.len() == 3 {
                break 'pages;
            }
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let claims = store::subsidies::list_claims(
        w.txn(),
        Scope::All,
        store::subsidies::ClaimFilter { program_id: Some(program.program.id), ..Default::default() },
        None,
        10,
    )
    .await?;
    for claim in claims.items.iter().take(2) {
        subsidies::decide(w, ADMIN, claim.id, true, Some("付息凭证齐全，同意贴息".into())).await?;
    }
    Ok(())
}

/// Fills an empty, migrated database with the demo data set and makes one key per role.
pub async fn seed(db: &DatabaseConnection) -> Result<DemoKeys, Error> {
    let today = Utc::now().date_naive();
    // One transaction: nothing half-seeded is left behind, and SQLite writes it in one go.
    let txn = db.begin().await?;
    let mut write = Write::new(&txn, Actor::command_line());
    let w = &mut write;
    let mut banks = Vec::new();
    for (code, name) in BANKS {
        let bank =
            directory::create_bank(w, ADMIN, store::banks::NewBank { code: code.into(), name: name.into() })
                .await?;
        banks.push((code.to_owned(), bank.id));
    }
    let optics_valley_id = optics_valley(w, &banks, today).await?;
    nanchang(w, &banks, today).await?;
    let (chengdu_park_id, meiqia_id, jinxiongmao_id) = chengdu(w, &banks, today).await?;
    kunshan(w, &banks).await?;
    chengdu_running(w, chengdu_park_id, today).await?;
    repayment_histories(w, optics_valley_id, chengdu_park_id, today).await?;
    let bocd =
        banks.iter().find(|(code, _)| code == "bocd").map(|(_, id)| *id).ok_or(StoreError::NotFound)?;
    chengdu_pool(w, chengdu_park_id, jinxiongmao_id, bocd, today).await?;
    chengdu_subsidy(w, chengdu_park_id, meiqia_id, today).await?;
    let admin = key(w, "demo-admin", Role::Admin, None).await?;
    let park_office = key(w, "demo-chengdu-office", Role::ParkOffice, Some(chengdu_park_id)).await?;
    let bank = key(w, "demo-bank-of-chengdu", Role::Bank, Some(bocd)).await?;
    let enterprise = key(w, "demo-meiqia", Role::Enterprise, Some(meiqia_id)).await?;
    // The caches of a fresh database hold nothing to forget.
    write.close().await?;
    txn.commit().await?;
    Ok(DemoKeys { admin, park_office, bank, enterprise, chengdu_park_id, meiqia_id, jinxiongmao_id })
}

/// Synthetic, not from the reports: 成都高新区's lines drawn again in the last year, as running
/// loans (成都美洽's line, drawn in full in 2022, excepted). Each line draws between half and nine
/// tenths of its amount, on a day within the last 360, for 12 months: two in three pay interest
/// monthly and the principal at maturity (按月付息、到期还本), one in three in equal installments
/// (等额本息). No reported figure counts these: the reports give Chengdu's grants, not its
/// disbursements.
async fn chengdu_running(w: &mut Write<'_>, park_id: i64, today: NaiveDate) -> Result<(), Error> {
    let mut after = None;
    let mut n: u64 = 0;
    loop {
        let page = store::credit::list_lines(w.txn(), Scope::Park(park_id), None, after, 500).await?;
        for line in page.items.iter().filter(|l| l.disbursed_total == Money::ZERO) {
            n += 1;
            let share = 50 + (n % 41) as i64;
            let amount = line.amount.fen() * share / 100 / 10_000 * 10_000;
            let method = if n.is_multiple_of(3) {
                RepaymentMethod::EqualInstallment
            } else {
                RepaymentMethod::MonthlyInterest
            };
            let draw = Draw {
                line_id: line.id,
                amount: money(amount.max(10_000)),
                reference: format!("JXM-R{n:05}"),
                disbursed_on: today - Days::new(3 + (n * 37) % 357),
                maturity_date: None,
                repayment_method: Some(method),
            };
            credit::disburse(w, ADMIN, draw, today).await?;
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => return Ok(()),
        }
    }
}

/// How a demo loan was repaid (synthetic, not from the reports).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Conduct {
    /// Every installment on its due date.
    OnTime,
    /// On time until about four months ago, then nothing: more than 90 days past due when the
    /// loan is old enough, so non-performing.
    Stopped,
    /// On time but for the latest installment: a month past due at most, special mention.
    Late,
    /// Nothing at all; written off (核销) once a year past due, with a recovery four months on.
    WrittenOff,
}

/// The conduct of the demo's loans: a few of 成都高新区's running loans fall behind (about one in
/// 70 stops paying, one in 50 is late), so that its NPL ratio is near 1%; two of 光谷's 2022 loans
/// defaulted and were written off; every other loan paid on time.
fn conduct(loan: &Loan, optics_valley: i64, chengdu: i64, optics_seen: &mut u64) -> Conduct {
    if loan.park_id == optics_valley {
        *optics_seen += 1;
        return if *optics_seen % 300 == 150 { Conduct::WrittenOff } else { Conduct::OnTime };
    }
    if loan.park_id != chengdu || loan.disbursed_on.year() < 2023 {
        return Conduct::OnTime;
    }
    match (loan.id % 70, loan.id % 50) {
        (17, _) => Conduct::Stopped,
        (_, 33) => Conduct::Late,
        _ => Conduct::OnTime,
    }
}

/// Records the demo's repayment histories (synthetic, not from the reports; see [`Conduct`]).
/// Repayments are recorded through the use case, on the days they were paid.
async fn repayment_histories(
    w: &mut Write<'_>,
    optics_valley: i64,
    chengdu: i64,
    today: NaiveDate,
) -> Result<(), Error> {
    let mut after = None;
    let mut optics_seen = 0;
    loop {
        let page = store::loans::list(w.txn(), Scope::All, Default::default(), after, 500).await?;
        for loan in &page.items {
            let conduct = conduct(loan, optics_valley, chengdu, &mut optics_seen);
            if conduct == Conduct::WrittenOff {
                written_off(w, loan, today).await?;
                continue;
            }
            let due: Vec<&ScheduleLine> =
                loan.lines.iter().filter(|l| l.installment.due_date < today).collect();
            let paid = match conduct {
                Conduct::Stopped => {
                    let stopped = today - Days::new(120);
                    due.iter().filter(|l| l.installment.due_date < stopped).count()
                }
                Conduct::Late => due.len().saturating_sub(1),
                _ => due.len(),
            };
            for line in &due[..paid] {
                let i = &line.installment;
                let amount = (i.principal.fen() - line.paid_principal.fen())
                    + (i.interest.fen() - line.paid_interest.fen());
                let repay = Repay {
                    loan_id: loan.id,
                    amount: money(amount),
                    paid_on: i.due_date,
                    reference: format!("DEMO-R{:06}-{:02}", loan.id, i.n),
                };
                loans::repay(w, ADMIN, repay, today).await?;
            }
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => return Ok(()),
        }
    }
}

/// A defaulted loan: written off a year and a day after it matured unpaid (the floor is loss by
/// then), and four months later a recovery of a tenth of its amount (allocated as any repayment:
/// the overdue interest first), when those days have come.
async fn written_off(w: &mut Write<'_>, loan: &Loan, today: NaiveDate) -> Result<(), Error> {
    let on = loan.maturity_date + Days::new(366);
    if on > today {
        return Ok(());
    }
    loans::write_off(w, ADMIN, loan.id, on).await?;
    let recovered_on = on + Days::new(120);
    if recovered_on <= today {
        let repay = Repay {
            loan_id: loan.id,
            amount: money(loan.amount.fen() / 10),
            paid_on: recovered_on,
            reference: format!("DEMO-RECOVERY-{:06}", loan.id),
        };
        loans::repay(w, ADMIN, repay, today).await?;
    }
    Ok(())
}

/// Makes a demo key and returns its secret.
async fn key(w: &mut Write<'_>, name: &str, role: Role, scope: Option<i64>) -> Result<String, Error> {
    let new = NewKey {
        name: name.to_owned(),
        role,
        park_id: scope.filter(|_| role == Role::ParkOffice),
        bank_id: scope.filter(|_| role == Role::Bank),
        enterprise_id: scope.filter(|_| role == Role::Enterprise),
    };
    Ok(directory::create_api_key(w, ADMIN, new).await?.secret)
}
